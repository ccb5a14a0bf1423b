package org.thinfs.core.pool;

/**
 * How a pool is opened.
 *
 * @param readOnly        refuse every change
 * @param cacheBlocks     metadata blocks kept in memory (4 KiB each)
 * @param holePuncher     gives freed data blocks back to the host filesystem
 * @param lowWaterBlocks  free data blocks at or below which a warning is logged
 * @param zeroHoles       the data file is a regular file of this pool's own whose punched holes read as zeros: the
 *                        pool punches its free space when opened and provisions those blocks without writing zeros
 *                        ({@link KnownZeroBlocks}); off for foreign pools and without a hole puncher
 */
public record PoolOptions(boolean readOnly, int cacheBlocks, DataHolePuncher holePuncher, long lowWaterBlocks,
                          boolean zeroHoles) {
    public static final PoolOptions DEFAULT = new PoolOptions(false, 16384, DataHolePuncher.NONE, 0, false);

    public PoolOptions withReadOnly(boolean ro) {
        return new PoolOptions(ro, cacheBlocks, holePuncher, lowWaterBlocks, zeroHoles);
    }

    public PoolOptions withCacheBlocks(int blocks) {
        return new PoolOptions(readOnly, blocks, holePuncher, lowWaterBlocks, zeroHoles);
    }

    public PoolOptions withHolePuncher(DataHolePuncher p) {
        return new PoolOptions(readOnly, cacheBlocks, p, lowWaterBlocks, zeroHoles);
    }

    /** With a hole puncher that makes holes reading as zeros, and trust in them (see {@code zeroHoles}). */
    public PoolOptions withZeroHoles(DataHolePuncher p) {
        return new PoolOptions(readOnly, cacheBlocks, p, lowWaterBlocks, true);
    }
}
