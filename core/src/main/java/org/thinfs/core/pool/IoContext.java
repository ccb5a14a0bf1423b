package org.thinfs.core.pool;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * What a device's I/O path (ThinDevice, BlockCopier) uses of its pool, named by role: the gate every request holds
 * for reading, the per-block locks, the guarded metadata, the data file, and the committer's record of blocks that
 * read as zeros. Lock order: gate → block locks → metadata lock (see ThinPool).
 */
record IoContext(ReentrantReadWriteLock gate, BlockLocks blockLocks, MetadataGuard metadata, DataStore data,
                 Committer committer) {
}
