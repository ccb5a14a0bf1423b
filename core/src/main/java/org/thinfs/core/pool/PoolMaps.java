package org.thinfs.core.pool;

import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.thin.ThinMetadata;

import java.util.function.LongConsumer;

/**
 * What a pool's metadata maps, read under the metadata lock ({@link MetadataGuard}): a device's mappings, its last
 * mapped block, its details. Each call is one short read of the metadata (or, for {@link #forEachDataBlock}, a
 * series of them), so writers wait for a chunk at most, never for a whole device; the cost follows what is mapped.
 * Obtained from {@link ThinPool#maps()}.
 */
public final class PoolMaps {
    /** Mappings read per turn of the metadata lock by {@link #forEachDataBlock}. */
    private static final int CHUNK = 4096;

    private final MetadataGuard metadata;

    PoolMaps(MetadataGuard metadata) {
        this.metadata = metadata;
    }

    /** Visits device {@code id}'s mappings with virtual block in [from, to), in order, under the metadata lock. */
    public void forEachMapping(long id, long from, long to, ThinMetadata.MappingVisitor visitor) {
        metadata.read(md -> {
            md.lookupRange(id, from, to, visitor);
            return null;
        });
    }

    /** Up to {@code max} mappings of {@code id} in [from, to) as (virtual, data) pairs; see ThinMetadata#mappings. */
    public long[] mappings(long id, long from, long to, int max) {
        return metadata.read(md -> md.mappings(id, from, to, max));
    }

    /** The highest mapped virtual block of device {@code id}, or -1 (one root-to-leaf path, not a walk). */
    public long lastMappedBlock(long id) {
        return metadata.read(md -> md.lastMappedBlock(id));
    }

    /**
     * Feeds every data block device {@code id} maps to {@code sink}, in virtual order: live, in chunks of 4096
     * mappings under the metadata lock, so writers wait one chunk at a time (a concurrent write may be seen or not).
     * Nothing for a device deleted meanwhile.
     */
    public void forEachDataBlock(long id, LongConsumer sink) {
        long from = 0;
        while (true) {
            long start = from;
            long[] pairs = metadata.read(md -> md.exists(id) ? md.mappings(id, start, Long.MAX_VALUE, CHUNK) : null);
            if (pairs == null || pairs.length == 0) {
                return;
            }
            for (int i = 1; i < pairs.length; i += 2) {
                sink.accept(pairs[i]);
            }
            long last = pairs[pairs.length - 2];
            if (pairs.length < 2 * CHUNK || last == Long.MAX_VALUE - 1) {
                return;
            }
            from = last + 1;
        }
    }

    /** Device {@code id}'s details record (mapped blocks, transaction id, creation and snapshot times). */
    public DeviceDetails details(long id) {
        return metadata.read(md -> md.details(id));
    }
}
