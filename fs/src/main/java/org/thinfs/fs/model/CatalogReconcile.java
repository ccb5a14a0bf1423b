package org.thinfs.fs.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.format.Layout;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.Catalog.SnapshotSet;
import org.thinfs.fs.model.FsException.Code;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;

/**
 * Where the catalog and the metadata meet: at mount, catalog entries whose device is gone are dropped and devices
 * nobody names become lost devices (or, in a foreign pool without a catalog, volumes named dev-ID); new devices get
 * the lowest id neither holds. Called by Namespace under its monitor.
 */
final class CatalogReconcile {
    private static final Logger LOG = LoggerFactory.getLogger(CatalogReconcile.class);

    private CatalogReconcile() {
    }

    /** Brings {@code doc} in line with the pool's devices; fills {@code lost} with the devices nobody names. */
    static void run(ThinPool pool, Catalog.Document doc, boolean foreign, Map<Long, Entry> lost) {
        SortedSet<Long> ids = pool.deviceIds();
        Set<Long> named = new HashSet<>();
        doc.volumes.entrySet().removeIf(e -> dropIfMissing(ids, e.getKey(), e.getValue()));
        for (SnapshotSet s : doc.snapshots.values()) {
            s.volumes.entrySet().removeIf(e -> dropIfMissing(ids, e.getKey(), e.getValue()));
        }
        doc.volumes.values().forEach(e -> named.add(e.id));
        doc.snapshots.values().forEach(s -> s.volumes.values().forEach(e -> named.add(e.id)));
        named.addAll(doc.orphans);
        for (long id : ids) {
            if (!named.contains(id)) {
                Entry e = new Entry(id, extentOf(pool, id), 0644, Catalog.nowNs());
                if (foreign) {
                    doc.volumes.put("dev-" + id, e);
                } else {
                    lost.put(id, e);
                    LOG.info("thin device {} is not named in the catalog: it is in lost+found/dev-{}", id, id);
                }
            }
        }
    }

    private static boolean dropIfMissing(SortedSet<Long> ids, String name, Entry e) {
        if (!ids.contains(e.id)) {
            LOG.warn("catalog names '{}' as thin device {}, which the metadata does not hold: dropped", name, e.id);
            return true;
        }
        return false;
    }

    /**
     * A device without a recorded size ends after its last mapped block. Found down the tree's right edge: a walk
     * of every mapping would pull a 10 M-mapping device's whole tree through the metadata cache in one operation.
     */
    static long extentOf(ThinPool pool, long id) {
        return (pool.maps().lastMappedBlock(id) + 1) * pool.dataBlockSize();
    }

    /**
     * The {@code count} lowest ids that neither the metadata nor the catalog (volumes, lost devices) uses, in
     * ascending order; one walk of the device list, whatever the count.
     */
    static long[] freeIds(ThinPool pool, Catalog.Document doc, Map<Long, Entry> lost, int count) {
        SortedSet<Long> ids = pool.deviceIds();
        Set<Long> named = new HashSet<>(lost.keySet());
        doc.volumes.values().forEach(e -> named.add(e.id));
        named.addAll(doc.orphans);                   // an orphan's id stays taken until its delete is recorded
        long[] out = new long[count];
        long id = 1;
        for (int i = 0; i < count; i++, id++) {
            while (ids.contains(id) || named.contains(id)) {
                id++;
            }
            if (id > Layout.MAX_THIN_DEVICE_ID) {
                throw new FsException(Code.ENOSPC, "no free thin device id");
            }
            out[i] = id;
        }
        return out;
    }
}
