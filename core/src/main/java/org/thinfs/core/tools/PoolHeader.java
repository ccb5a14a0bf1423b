package org.thinfs.core.tools;

/**
 * The superblock attributes of a dump, as {@code thin_dump} prints them on {@code <superblock>}. Every number is an
 * unsigned on-disk value held in a {@code long} (u32 fields never go negative; u64 fields print unsigned).
 * {@code nrDataBlocks} is 0 for a dump read through the metadata snapshot, whose space-map roots are zero.
 */
public record PoolHeader(String uuid, long time, long transaction, long flags, long version, long dataBlockSize,
                         long nrDataBlocks) {
    public PoolHeader {
        if (uuid == null) {
            throw new IllegalArgumentException("uuid must not be null (use \"\")");
        }
    }
}
