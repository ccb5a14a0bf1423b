package org.thinfs.core.pool;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Which devices read their unmapped blocks from a base image (external origin). dm-thin's metadata has no place
 * for it (the kernel takes the origin in the thin target's table line), so the owner of the device records (the
 * catalog) attaches each after opening the pool; snapshots and rollbacks carry it from device to device here, so a
 * snapshot of a volume over an image reads what its origin read. Lookups cost one empty check on pools without any.
 * Obtained from {@link ThinPool#bases()}.
 */
public final class DeviceBases {
    private final ConcurrentHashMap<Long, DeviceBase> byId = new ConcurrentHashMap<>();

    /**
     * Makes device {@code id} read its unmapped blocks from {@code base} (null: zeros), as its record says; takes
     * effect for the next read.
     */
    public void attach(long id, DeviceBase base) {
        if (base == null) {
            byId.remove(id);
        } else {
            byId.put(id, base);
        }
    }

    /** The base image device {@code id} reads its unmapped blocks from, or null. */
    public DeviceBase get(long id) {
        return byId.isEmpty() ? null : byId.get(id);
    }

    /** Device {@code id} now reads as device {@code from} does (a new snapshot of it, or a rollback to it). */
    void inherit(long id, long from) {
        attach(id, get(from));
    }

    void remove(long id) {
        byId.remove(id);
    }

    /** Device {@code id} shows no byte of its base image at or past {@code size} from now on (a shrink). */
    public void limit(long id, long size) {
        byId.computeIfPresent(id, (k, b) -> b.limitedTo(size));
    }
}
