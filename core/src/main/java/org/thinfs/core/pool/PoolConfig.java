package org.thinfs.core.pool;

/**
 * How a new pool is formatted.
 *
 * @param dataBlockSize bytes per data block: a multiple of 64 KiB from 64 KiB to 1 GiB
 * @param dataSize      bytes of the data file (rounded down to whole data blocks)
 * @param metadataSize  bytes of the metadata file (rounded down to 4 KiB blocks, at most about 15.87 GiB used)
 */
public record PoolConfig(long dataBlockSize, long dataSize, long metadataSize) {
    public static final long DEFAULT_DATA_BLOCK_SIZE = 64 * 1024;
}
