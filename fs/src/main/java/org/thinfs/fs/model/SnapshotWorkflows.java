package org.thinfs.fs.model;

import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.Catalog.SnapshotSet;
import org.thinfs.fs.model.FsException.Code;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What ZFS and LVM users do with snapshot sets beyond taking and removing them: roll volumes back in place and hold
 * sets against removal. Every operation runs under the namespace's monitor (the one lock of names), checks everything
 * before it changes anything, and is committed by PoolFileSystem before it returns.
 */
final class SnapshotWorkflows {
    private static final int MAX_TAG = 255;

    private final Namespace ns;

    SnapshotWorkflows(Namespace ns) {
        this.ns = ns;
    }

    /**
     * Rolls the named volumes of set {@code setName} (all of its volumes when {@code only} is empty) back to it in
     * place: each keeps its name and device id and gets the snapshot's mappings and size, in one metadata step. A
     * volume open for writing is refused unless {@code force}. With {@code keepAs}, the current state is first kept
     * as snapshot set {@code keepAs} (snapper's undo).
     *
     * @return the device ids rolled back, whose cached pages the front ends must drop
     */
    List<Long> rollback(String setName, List<String> only, boolean force, String keepAs) {
        synchronized (ns) {
            Catalog.Document doc = ns.doc();
            SnapshotSet set = ns.set(setName);
            List<String> names = new ArrayList<>(new java.util.LinkedHashSet<>(only.isEmpty() ? set.volumes.keySet() : only));
            List<long[]> pairs = new ArrayList<>();
            List<Entry> live = new ArrayList<>();
            for (String v : names) {
                Entry snap = set.volumes.get(v);
                if (snap == null) {
                    throw new FsException(Code.ENOENT, "snapshot set " + setName + " has no volume " + v);
                }
                Entry now = doc.volumes.get(v);
                if (now == null) {
                    throw new FsException(Code.ENOENT, "no volume named " + v + " to roll back; 'ln snapshots/"
                            + setName + "/" + v + " " + v + "' in the mount makes it again");
                }
                if (!force && ns.writersOf(now.id) > 0) {
                    throw new FsException(Code.EBUSY, "volume " + v + " is open for writing; close it first, or "
                            + "roll back with --force (its writers then write over the snapshot's bytes)");
                }
                pairs.add(new long[]{now.id, snap.id});
                live.add(now);
            }
            if (keepAs != null) {
                // Committed on its own first: a metadata failure in the rollback below returns the metadata to the
                // last commit, which must then hold this set as the catalog does.
                ns.setTaker().take(keepAs, names, null, null, null);
                ns.commits().commitChange();
            }
            ns.pool().rollback(pairs);
            long nowNs = Catalog.nowNs();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                Entry e = live.get(i);
                e.size = set.volumes.get(names.get(i)).size;
                e.base = set.volumes.get(names.get(i)).base;   // the snapshot's view of a base image, as the pool
                ns.attachBase(e);
                e.mtimeNs = nowNs;
                e.ctimeNs = nowNs;
                e.received = null;                     // no longer the image an import made it
                ids.add(e.id);
            }
            ns.commits().mark();
            return ids;
        }
    }

    /** Adds hold {@code tag} to set {@code setName}: the set cannot be removed until every hold is released. */
    void hold(String setName, String tag) {
        checkTag(tag);
        synchronized (ns) {
            SnapshotSet s = ns.set(setName);
            if (s.holds == null) {
                s.holds = new TreeSet<>();
            }
            if (!s.holds.add(tag)) {
                throw new FsException(Code.EEXIST, "snapshot set " + setName + " already has hold " + tag);
            }
            ns.commits().mark();
        }
    }

    void release(String setName, String tag) {
        synchronized (ns) {
            SnapshotSet s = ns.set(setName);
            if (s.holds == null || !s.holds.remove(tag)) {
                throw new FsException(Code.ENOENT, "snapshot set " + setName + " has no hold " + tag);
            }
            if (s.holds.isEmpty()) {
                s.holds = null;
            }
            ns.commits().mark();
        }
    }

    /** Every held set and its tags. */
    SortedMap<String, SortedSet<String>> holds() {
        synchronized (ns) {
            SortedMap<String, SortedSet<String>> out = new TreeMap<>();
            ns.doc().snapshots.forEach((name, s) -> {
                if (s.holds != null && !s.holds.isEmpty()) {
                    out.put(name, new TreeSet<>(s.holds));
                }
            });
            return out;
        }
    }

    private static void checkTag(String tag) {
        if (tag == null || tag.isEmpty() || tag.length() > MAX_TAG || !tag.chars().allMatch(c -> c > ' ' && c < 127)) {
            throw new FsException(Code.EINVAL, "a hold tag is 1 to " + MAX_TAG + " printable characters without "
                    + "spaces, not '" + tag + "'");
        }
    }

    /** What a prune would do: the sets to remove (oldest first) and the sets it would remove but holds keep. */
    public record PrunePlan(List<String> remove, List<String> held) {
    }

    /** The sets matching {@code glob} (shell pattern over set names) that {@code policy} does not keep. */
    PrunePlan planPrune(Retention policy, String glob, java.time.ZoneId zone) {
        java.nio.file.PathMatcher match = java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + glob);
        synchronized (ns) {
            java.util.Map<String, Long> created = new TreeMap<>();
            ns.doc().snapshots.forEach((name, set) -> {
                if (match.matches(java.nio.file.Path.of(name))) {
                    created.put(name, set.created);
                }
            });
            List<String> remove = new ArrayList<>();
            List<String> held = new ArrayList<>();
            for (String name : policy.prune(created, zone)) {
                SnapshotSet s = ns.doc().snapshots.get(name);
                (s.holds != null && !s.holds.isEmpty() ? held : remove).add(name);
            }
            return new PrunePlan(remove, held);
        }
    }

    /** The member volumes of a set, for removing it whole. */
    List<String> members(String setName) {
        synchronized (ns) {
            return new ArrayList<>(ns.set(setName).volumes.keySet());
        }
    }

    /**
     * Records bookmark {@code name} of set {@code setName}: per volume what an incremental stream from it needs, so
     * the set can go and the next incremental still works (see Catalog.Bookmark).
     */
    void bookmark(String setName, String name) {
        Names.check(name);
        synchronized (ns) {
            SnapshotSet set = ns.set(setName);
            if (ns.doc().bookmarks.containsKey(name)) {
                throw new FsException(Code.EEXIST, "bookmark " + name + " exists");
            }
            Catalog.Bookmark b = new Catalog.Bookmark();
            b.created = System.currentTimeMillis();
            b.set = setName;
            for (var e : set.volumes.entrySet()) {
                Entry m = e.getValue();
                if (m.origin == null || m.originCreated == null) {
                    throw new FsException(Code.EINVAL, "snapshots/" + setName + " was taken by a thinfs that did not "
                            + "record what it was taken of; bookmark a set taken by this one");
                }
                Catalog.BookmarkVolume v = new Catalog.BookmarkVolume();
                v.origin = m.origin;
                v.originCreated = m.originCreated;
                v.since = ns.pool().maps().details(m.id).creationTime();
                v.size = m.size;
                v.identity = ns.identity(FsPath.SNAPSHOTS + "/" + setName + "/" + e.getKey());
                b.volumes.put(e.getKey(), v);
            }
            ns.doc().bookmarks.put(name, b);
            ns.commits().mark();
        }
    }

    void deleteBookmark(String name) {
        synchronized (ns) {
            if (ns.doc().bookmarks.remove(name) == null) {
                throw new FsException(Code.ENOENT, "no bookmark " + name);
            }
            ns.commits().mark();
        }
    }

    /** Bookmark name → its set's name and volumes (copies). */
    SortedMap<String, Catalog.Bookmark> bookmarks() {
        synchronized (ns) {
            return new TreeMap<>(ns.doc().bookmarks);
        }
    }

    /**
     * What an incremental from bookmark {@code name}'s volume {@code volume} to {@code target} (a volume, or a
     * snapshot volume {@code snapshots/SET/NAME}) sends: the pool time since which blocks count as written, and the
     * base identity. Refused with a sentence when the target does not descend from the bookmarked snapshot: replaced
     * (another device), rolled back since (a new creation time), or a snapshot older than the bookmark.
     */
    Catalog.BookmarkVolume bookmarkFor(String name, String volume, String target) {
        synchronized (ns) {
            Catalog.Bookmark b = ns.doc().bookmarks.get(name);
            if (b == null) {
                throw new FsException(Code.ENOENT, "no bookmark " + name);
            }
            Catalog.BookmarkVolume v = b.volumes.get(volume);
            if (v == null) {
                throw new FsException(Code.ENOENT, "bookmark " + name + " has no volume " + volume);
            }
            FsPath p = FsPath.parse("/" + target);
            Entry e = ns.entry(p);
            int created = ns.pool().maps().details(e.id).creationTime();
            boolean descends = p.kind() == FsPath.Kind.VOLUME
                    ? e.id == v.origin && created == v.originCreated
                    : p.kind() == FsPath.Kind.SNAPSHOT_VOLUME && e.origin != null && e.origin == v.origin
                            && e.originCreated != null && e.originCreated == v.originCreated && created >= v.since;
            if (!descends) {
                throw new FsException(Code.EINVAL, target + " does not descend from bookmark " + name + "'s "
                        + volume + " (replaced, rolled back or older since): send a full stream instead");
            }
            return v;
        }
    }
}
