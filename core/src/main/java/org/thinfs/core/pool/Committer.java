package org.thinfs.core.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.BitSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Makes a pool's acknowledged writes durable and gives freed data blocks back to the host: data flushed, then the
 * metadata committed (superblock last), then every data block the commit freed punched as a hole.
 *
 * <p>Rules kept here. A commit holds the gate's write lock, so it never records a block that is allocated but not
 * yet mapped, and no block freed in this transaction is reused under an in-flight read. Blocks are punched only
 * after the commit that frees them (before it, the committed metadata still maps them) and under the gate (no
 * request can allocate them meanwhile). Work that may be long — deletes' pending frees, most of the data flush —
 * runs before the gate is taken, while requests keep flowing.
 */
final class Committer {
    private static final Logger LOG = LoggerFactory.getLogger(Committer.class);
    /** Data flushes before a commit takes the gate, at most. */
    private static final int PRE_FLUSH_PASSES = 3;
    /**
     * Less than this written since the last flush is left to the flush under the gate, which overlaps the metadata's
     * (CommitFlushes) and pauses I/O for a few milliseconds at most; a pre-flush would add its own latency to the
     * commit's, which is what an fsync waits for.
     */
    private static final long PRE_FLUSH_MIN_BYTES = 16L << 20;
    /** A pre-flush this quick left little behind; the next step is the flush under the gate. */
    private static final long QUICK_FLUSH_NANOS = 10_000_000;
    /** Device-tree nodes a delete frees per metadata operation (about 100 k data references). */
    private static final int FREE_STEP = 1000;
    /** How long a delete step lets waiting requests go first, at most. */
    private static final long YIELD_NANOS = 1_000_000;

    private final ReentrantReadWriteLock gate;
    private final MetadataGuard metadata;
    private final DataStore data;
    private final DataHolePuncher puncher;
    private final long blockSize;
    private final String poolName;
    /**
     * Data blocks whose count dropped to zero in this transaction: punched after the commit. A bit per block (2.5 MiB
     * for 20 M blocks), not a set of boxed numbers: deleting a volume of 10 M mappings frees 10 M blocks in one
     * operation. Blocks past 2^31 are not recorded and stay allocated in the host file. Guarded by the metadata lock.
     */
    private final BitSet freedData = new BitSet();
    /** Free data blocks that read as zeros (holes this process punched); null unless PoolOptions#zeroHoles. Guarded
     * by the metadata lock. */
    private final KnownZeroBlocks knownZero;
    /** Told each commit's duration (PoolObserver). */
    private volatile PoolObserver observer = PoolObserver.NONE;

    Committer(ReentrantReadWriteLock gate, MetadataGuard metadata, DataStore data, DataHolePuncher puncher,
              long blockSize, String poolName, boolean trackZeros) {
        this.gate = gate;
        this.metadata = metadata;
        this.data = data;
        this.puncher = puncher;
        this.blockSize = blockSize;
        this.poolName = poolName;
        this.knownZero = trackZeros && puncher != DataHolePuncher.NONE ? new KnownZeroBlocks() : null;
    }

    void setObserver(PoolObserver observer) {
        this.observer = observer;
    }

    /** The data space map's free listener: {@code block}'s count reached zero (under the metadata lock). */
    void freed(long block) {
        if (block <= Integer.MAX_VALUE) {
            freedData.set((int) block);
        }
    }

    /** After a rollback (under the metadata lock): what the lost transaction freed or punched is unknown now. */
    void forgetTransaction() {
        freedData.clear();
        if (knownZero != null) {
            knownZero.clear();
        }
    }

    /**
     * Frees what deletes left to free, one metadata operation of {@link #FREE_STEP} nodes at a time. A caller that
     * holds its own lock around a commit calls this first, outside that lock (as with {@link #preFlush}).
     */
    void freeDeleted() {
        while (!metadata.change(md -> md.freePending(FREE_STEP))) {
            // The metadata lock is not fair: without a pause this loop would take it again before any waiting
            // request wakes up, and the delete would hold the pool as if it were one operation. The pause is
            // bounded (1 ms), so a steady stream of requests cannot starve the delete, or the commit behind it.
            long until = System.nanoTime() + YIELD_NANOS;
            while (metadata.hasWaiters() && System.nanoTime() < until) {
                Thread.yield();
            }
        }
    }

    /**
     * What a commit does before it takes the gate: most dirty data pages reach the disk here, while requests keep
     * flowing, so the flush under the gate only has to cover what arrived in between and I/O pauses for much less
     * than a full flush. Under a writer that keeps the disk busy, a slow pass leaves its own duration's data behind,
     * so passes repeat while they are slow (a few at most: the writer may outrun the disk).
     */
    void preFlush() {
        freeDeleted();
        long unflushed = data.unflushedBytes();
        if (unflushed >= 0 && unflushed < PRE_FLUSH_MIN_BYTES) {
            return;         // the flush under the gate takes it, beside the metadata's flush
        }
        for (int pass = 0; pass < PRE_FLUSH_PASSES; pass++) {
            long passStart = System.nanoTime();
            data.flush();
            if (System.nanoTime() - passStart < QUICK_FLUSH_NANOS) {
                return;
            }
        }
    }

    /**
     * The commit after {@link #preFlush}: under the gate, the data flush and {@code alongside} (null for none: more
     * the caller must make durable before the superblock, such as the catalog) run on helper threads while the
     * metadata blocks are written and flushed; the superblock waits for all of them (CommitFlushes says why they may
     * overlap); then freed blocks are punched. A failed flush fails the commit before its superblock, and the pool
     * turns read-only (MetadataGuard): after a failed flush the host may have dropped the pages it could not write,
     * so retrying could commit mappings to data that is gone.
     */
    void commitPreFlushed(Runnable alongside) {
        if (metadata.isReadOnly()) {
            return;
        }
        // A delete in progress still has blocks to free, which must be done before a commit. Help with that here,
        // one step at a time, before taking the gate: freeing under the gate would stop all I/O until it ends.
        freeDeleted();
        long preFlushed = System.nanoTime();
        gate.writeLock().lock();
        long gated = System.nanoTime();
        try {
            CommitFlushes flushes = CommitFlushes.start(data::flush, alongside);
            BitSet toPunch;
            try {
                toPunch = metadata.commit(flushes::await, md -> {
                    BitSet punch = (BitSet) freedData.clone();
                    for (int b = freedData.nextSetBit(0); b >= 0; b = freedData.nextSetBit(b + 1)) {
                        if (md.dataSpace().count(b) != 0) {
                            punch.clear(b);     // freed, then allocated again in the same transaction
                        }
                    }
                    freedData.clear();
                    return punch;
                });
            } catch (RuntimeException | Error e) {
                try {
                    flushes.await();        // never leave a flush running past the gate
                } catch (RuntimeException | Error also) {
                    e.addSuppressed(also);
                }
                throw e;
            }
            flushes.await();                // when nothing was committed, the flushes still had to end
            if (toPunch == null) {
                return;
            }
            observer.committed(System.nanoTime() - preFlushed);
            if (LOG.isDebugEnabled()) {
                long end = System.nanoTime();
                LOG.debug("commit: waiting for the gate {} us, I/O paused {} us", (gated - preFlushed) / 1000,
                        (end - gated) / 1000);
            }
            punch(toPunch);
        } finally {
            gate.writeLock().unlock();
        }
    }

    /** Gives each run of freed blocks back to the host file system as one hole. */
    private void punch(BitSet blocks) {
        if (blocks.isEmpty() || puncher == DataHolePuncher.NONE) {
            return;
        }
        for (int first = blocks.nextSetBit(0); first >= 0; ) {
            int end = blocks.nextClearBit(first);
            punchAndRecord(first, end); // under the gate: no request can allocate them meanwhile
            first = blocks.nextSetBit(end);
        }
    }

    /**
     * Makes every free data block a hole and records it as zeros. Whatever a free block holds (a write of a
     * transaction a crash cut short, or a block freed by the last commit whose punch never ran) is gone after this,
     * so no later partial write into it can show old bytes. Runs at open, before any request: nothing is
     * allocated meanwhile. Cost: a pass over the in-memory bitmaps and one fallocate per free run.
     */
    void punchFreeSpace() {
        if (knownZero == null) {
            return;
        }
        long started = System.nanoTime();
        metadata.read(md -> {
            md.dataSpace().forEachFreeRun((from, to) -> punchAndRecord(from, to));
            return null;
        });
        LOG.info("pool {}: {} free data blocks in {} runs are holes, provisioned without zero fill ({} ms)",
                poolName, knownZero.blocks(), knownZero.runs(), (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Punches [from, to) and, if the punch succeeded and the pool tracks holes, records the blocks as zeros. The
     * caller guarantees that the blocks are free and that no request can allocate them before this returns (pool
     * opening, a resize or the commit, under the gate). The punch reaches the disk with the data flush that precedes
     * the next commit (fallocate changes the file's extents, which fdatasync persists), so a commit that maps such a
     * block also makes its hole durable; a crash before that commit leaves the block free, and the next open punches
     * it again.
     */
    void punchAndRecord(long from, long to) {
        try {
            puncher.punch(from * blockSize, (to - from) * blockSize);
        } catch (IOException e) {
            LOG.warn("could not give free data blocks {}..{} of pool {} back to the host file system: {}", from,
                    to - 1, poolName, e.getMessage());
            return;
        }
        if (knownZero != null) {
            metadata.read(md -> {
                knownZero.add(from, to);
                return null;
            });
        }
    }

    /** Whether grown space should be punched and recorded ({@link #punchAndRecord}) at once. */
    boolean tracksZeros() {
        return knownZero != null;
    }

    /**
     * Called under the metadata lock with every data block just allocated (ThinDevice and BlockCopier are the only
     * allocators): true if it reads as zeros, so a provisioning write need not fill the rest of it. Either way the
     * block leaves the set, since it is about to be written; so the set only ever holds free blocks.
     */
    boolean takeKnownZero(long block) {
        assert metadata.isHeldByCurrentThread();
        return knownZero != null && knownZero.take(block);
    }

    long knownZeroBlocks() {
        return knownZero == null ? 0 : metadata.read(md -> knownZero.blocks());
    }
}
