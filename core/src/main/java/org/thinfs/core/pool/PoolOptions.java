package org.thinfs.core.pool;

/**
 * How a pool is opened.
 *
 * @param readOnly        refuse every change
 * @param cacheBlocks     metadata blocks kept in memory (4 KiB each)
 * @param holePuncher     gives freed data blocks back to the host filesystem
 * @param lowWaterBlocks  free data blocks at or below which a warning is logged
 */
public record PoolOptions(boolean readOnly, int cacheBlocks, DataHolePuncher holePuncher, long lowWaterBlocks) {
    public static final PoolOptions DEFAULT = new PoolOptions(false, 16384, DataHolePuncher.NONE, 0);

    public PoolOptions withReadOnly(boolean ro) {
        return new PoolOptions(ro, cacheBlocks, holePuncher, lowWaterBlocks);
    }

    public PoolOptions withCacheBlocks(int blocks) {
        return new PoolOptions(readOnly, blocks, holePuncher, lowWaterBlocks);
    }

    public PoolOptions withHolePuncher(DataHolePuncher p) {
        return new PoolOptions(readOnly, cacheBlocks, p, lowWaterBlocks);
    }
}
