package org.thinfs.core.pool;

/** Space accounting of a pool, in blocks of each kind. */
public record PoolUsage(long dataBlockSize, long dataBlocks, long dataBlocksUsed, long metadataBlocks,
                        long metadataBlocksUsed, long transactionId, int time) {
}
