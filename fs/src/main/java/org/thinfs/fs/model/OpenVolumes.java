package org.thinfs.fs.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.FsException.Code;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Open volumes and what happens when one loses its name while open: it becomes an orphan (Document#orphans), kept
 * for its handles and deleted at its last close, or at the next writable open if the daemon stopped before that.
 * Counts are guarded by the namespace's monitor, the one lock of names.
 */
final class OpenVolumes {
    private static final Logger LOG = LoggerFactory.getLogger(OpenVolumes.class);

    private final Namespace ns;
    private final ThinPool pool;
    private final Catalog.Document doc;
    /** Open handles per device id; a device removed while it has some is an orphan. */
    private final Map<Long, Integer> handles = new HashMap<>();
    /** Of those, the handles opened for writing (rollback refuses a volume someone writes). */
    private final Map<Long, Integer> writers = new HashMap<>();

    OpenVolumes(Namespace ns, ThinPool pool, Catalog.Document doc) {
        this.ns = ns;
        this.pool = pool;
        this.doc = doc;
    }

    /** Handles open for writing on device {@code id}; the caller holds the namespace's monitor. */
    int writersOf(long id) {
        return writers.getOrDefault(id, 0);
    }

    Handle open(String path, boolean write) {
        synchronized (ns) {
            FsPath p = FsPath.parse(path);
            Entry e = ns.entry(p);
            boolean ro = p.kind() == FsPath.Kind.SNAPSHOT_VOLUME;
            if (write && ro) {
                throw new FsException(Code.EROFS, "snapshot volumes are read-only; clone one with ln to write");
            }
            ns.bases().requireUsable(e.id);
            Handle h = new Handle(pool.device(e.id), e, ro, write);
            handles.merge(e.id, 1, Integer::sum);
            if (write) {
                writers.merge(e.id, 1, Integer::sum);
            }
            return h;
        }
    }

    /**
     * Closes a handle (once; later calls do nothing). The last close of an orphan deletes its device: its id stays
     * in the catalog's orphans until the delete is done, so a crash in between frees it at the next open.
     */
    void release(Handle h) {
        if (!h.close()) {
            return;
        }
        long id = h.device.id();
        synchronized (ns) {
            if (h.forWriting && writers.merge(id, -1, Integer::sum) <= 0) {
                writers.remove(id);
            }
            if (handles.merge(id, -1, Integer::sum) > 0) {
                return;
            }
            handles.remove(id);
            if (!doc.orphans.contains(id) || ns.isHidden(id)) {
                return;                                // not an orphan, or libfuse unlinks it itself next
            }
        }
        try {
            pool.delete(id);                           // outside the monitor, as unlink deletes
        } finally {
            synchronized (ns) {
                doc.orphans.remove(id);
                ns.commits().mark();
            }
        }
    }

    /**
     * A device that lost its name while open becomes an orphan (committed with the change); true if it did. The
     * caller holds the namespace's monitor.
     */
    boolean orphanIfOpen(long id) {
        if (!handles.containsKey(id)) {
            return false;
        }
        doc.orphans.add(id);
        ns.commits().mark();
        return true;
    }

    /**
     * Devices removed while open when the daemon last stopped (killed before their last close): nobody can name
     * them any more, so their blocks are freed now. A read-only pool keeps them for the next writable open.
     */
    void freeOrphansLeftBehind() {
        if (doc.orphans.isEmpty() || pool.isReadOnly()) {
            return;
        }
        java.util.SortedSet<Long> ids = pool.deviceIds();
        for (long id : List.copyOf(doc.orphans)) {
            if (ids.contains(id)) {
                LOG.info("thin device {} was removed while open and the daemon stopped before its last close: "
                        + "its blocks are freed now", id);
                pool.delete(id);
            }
            doc.orphans.remove(id);
        }
        ns.commits().mark();
    }
}
