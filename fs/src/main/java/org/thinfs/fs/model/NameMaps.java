package org.thinfs.fs.model;

import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.Catalog.SnapshotSet;
import org.thinfs.fs.model.FsException.Code;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where each kind of name lives: top-level volumes and snapshot volumes in the catalog document, lost devices (ids
 * the metadata holds that the catalog does not name) and the hidden names libfuse2 gives removed volumes that are
 * still open. The one class that knows which map holds a name: looking one up, taking one out, putting one back.
 * Not thread-safe: {@link Namespace}'s monitor guards it, as it guards the document.
 */
final class NameMaps {
    private final Catalog.Document doc;
    /** Whether the pool is foreign (kernel or LVM): then it has no lost+found, every device being nameless. */
    private final boolean foreign;
    /** Devices the metadata holds that the catalog does not name. */
    private final TreeMap<Long, Entry> lost = new TreeMap<>();
    /**
     * Open volumes that were removed, under the name libfuse2 gave them ({@code .fuse_hidden...}) until its last
     * close unlinks that name. Never listed, never in a snapshot set or status; their ids are in the catalog's
     * orphans, so a crash before the last close frees them at the next open.
     */
    private final Map<String, Entry> hidden = new HashMap<>();

    NameMaps(Catalog.Document doc, boolean foreign) {
        this.doc = doc;
        this.foreign = foreign;
    }

    /** The lost devices by id, for reconciling them with the metadata and for choosing free ids. */
    TreeMap<Long, Entry> lost() {
        return lost;
    }

    /** The catalog entry a file path names; ENOENT when none, EISDIR for a directory. */
    Entry entry(FsPath p) {
        Entry e = switch (p.kind()) {
            case VOLUME -> doc.volumes.get(p.name());
            case SNAPSHOT_VOLUME -> set(p.set()).volumes.get(p.name());
            case LOST_DEVICE -> foreign ? null : lost.get(p.lostId());
            case HIDDEN -> hidden.get(p.name());
            case ROOT, SNAPSHOTS_DIR, LOST_FOUND_DIR, SNAPSHOT_SET -> throw new FsException(Code.EISDIR,
                    "a directory");
            default -> null;
        };
        if (e == null) {
            throw new FsException(Code.ENOENT, "no such volume");
        }
        return e;
    }

    SnapshotSet set(String name) {
        SnapshotSet s = doc.snapshots.get(name);
        if (s == null) {
            throw new FsException(Code.ENOENT, "no snapshot set " + name);
        }
        return s;
    }

    /** Refuses to take a name out of a held set: holds keep a set whole. */
    void requireUnheld(String setName) {
        SnapshotSet s = doc.snapshots.get(setName);
        if (s != null && s.holds != null && !s.holds.isEmpty()) {
            throw new FsException(Code.EBUSY, "snapshot set " + setName + " is held (" + String.join(", ", s.holds)
                    + "); 'thinfs release POOL " + setName + " TAG' first");
        }
    }

    /** Takes the name {@code p} of entry {@code e} out of whichever map holds it (refused in a held set). */
    void remove(FsPath p, Entry e) {
        switch (p.kind()) {
            case VOLUME -> doc.volumes.remove(p.name());
            case SNAPSHOT_VOLUME -> {
                requireUnheld(p.set());
                set(p.set()).volumes.remove(p.name());
            }
            case HIDDEN -> hidden.remove(p.name());
            default -> lost.remove(e.id);
        }
    }

    /** Puts back what {@link #remove} took (a delete failed); under lost+found if its name was taken since. */
    void putBack(FsPath p, Entry e) {
        switch (p.kind()) {
            case HIDDEN -> hidden.put(p.name(), e);
            case VOLUME -> {
                if (doc.volumes.putIfAbsent(p.name(), e) != null) {
                    lost.put(e.id, e);
                }
            }
            case SNAPSHOT_VOLUME -> {
                SnapshotSet s = doc.snapshots.get(p.set());
                if (s == null || s.volumes.putIfAbsent(p.name(), e) != null) {
                    lost.put(e.id, e);
                }
            }
            default -> lost.put(e.id, e);
        }
    }

    /** Names {@code e} by the hidden name libfuse2 gave it. */
    void hide(String hiddenName, Entry e) {
        hidden.put(hiddenName, e);
    }

    /** Whether libfuse holds device {@code id} under a hidden name (it unlinks it itself at its last close). */
    boolean isHidden(long id) {
        return hidden.values().stream().anyMatch(e -> e.id == id);
    }
}
