package org.thinfs.core.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.format.Layout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * Grows a pool's spaces before they fill, as dmeventd does for LVM thin pools, and holds writers that find the pool
 * full when the policy says so ({@link SpacePolicy}).
 *
 * <p>Two callers: {@link #check} runs every few hundred milliseconds on the daemon's own thread; {@link
 * #retryAfterFull} runs on a writer's thread that found no free block, with no pool lock held (ThinDevice#write
 * releases everything first), so growing the pool there, which takes the gate, cannot deadlock. Extensions are
 * serialized by this object's monitor; nothing else is taken under it but the pool's own locks.
 *
 * <p>The host bound: a grown pool never offers more free blocks than the host file system could store, less a
 * margin ({@link #hostMargin}), since a sparse data file takes host space only as blocks are written.
 */
public final class AutoExtender implements ThinPool.FullHandler {
    private static final Logger LOG = LoggerFactory.getLogger(AutoExtender.class);
    /**
     * How long a writer is held when {@code when-full=wait}: 60 s, as dm-thin's no_space_timeout; the property
     * {@code thinfs.whenFullWaitMs} changes it (tests of the timeout).
     */
    public static final long WAIT_NANOS = Long.getLong("thinfs.whenFullWaitMs", 60_000) * 1_000_000;
    private static final long POLL_MILLIS = 100;
    /** With autoextend off, the use at which a threshold event still warns. */
    static final int WARN_PERCENT = 95;

    private final ThinPool pool;
    private final LongSupplier hostFreeBytes;
    private final long waitNanos;
    private volatile SpacePolicy policy;
    /** Guarded by this: whether each space is past its threshold (an event is sent on each crossing). */
    private boolean dataOver;
    private boolean metadataOver;
    /** Guarded by this: a full-pool episode was already reported. */
    private boolean fullReported;

    public AutoExtender(ThinPool pool, LongSupplier hostFreeBytes, SpacePolicy policy) {
        this(pool, hostFreeBytes, policy, WAIT_NANOS);
    }

    public AutoExtender(ThinPool pool, LongSupplier hostFreeBytes, SpacePolicy policy, long waitNanos) {
        this.waitNanos = waitNanos;
        this.pool = pool;
        this.hostFreeBytes = hostFreeBytes;
        this.policy = policy;
    }

    /** Free bytes of the file system holding {@code file}, for the host bound; Long.MAX_VALUE if unknown. */
    /**
     * The room the data space of {@code pool} may grow into: the host file system's free space for a data file, what
     * the device holds beyond the data space for a block device (it grows only when the device does).
     */
    public static LongSupplier hostFreeOf(Path file, ThinPool pool) {
        if (!org.thinfs.core.io.Devices.isBlockDevice(file)) {
            return hostFreeOf(file);
        }
        return () -> {
            try {
                PoolUsage u = pool.usage();
                return Math.max(0, org.thinfs.core.io.Devices.size(file) - u.dataBlocks() * u.dataBlockSize());
            } catch (IOException e) {
                return 0;
            }
        };
    }

    public static LongSupplier hostFreeOf(Path file) {
        return () -> {
            try {
                return Files.getFileStore(file).getUsableSpace();
            } catch (IOException e) {
                return Long.MAX_VALUE;
            }
        };
    }

    public SpacePolicy policy() {
        return policy;
    }

    public void setPolicy(SpacePolicy p) {
        policy = p;
    }

    /** Whether each space is at or past the mark (the threshold, or 95% with autoextend off): {data, metadata}. */
    public synchronized boolean[] overThreshold() {
        return new boolean[]{dataOver, metadataOver};
    }

    /** Grows whichever space is past the threshold; reports crossings. Never throws. */
    public synchronized void check() {
        if (pool.isReadOnly()) {
            return;
        }
        SpacePolicy p = policy;
        PoolUsage u = pool.usage();
        int mark = p.autoextends() ? p.threshold() : WARN_PERCENT;
        boolean dOver = over(u.dataBlocksUsed(), u.dataBlocks(), mark);
        boolean mOver = over(u.metadataBlocksUsed(), u.metadataBlocks(), mark);
        if (u.dataBlocksUsed() < u.dataBlocks()) {
            fullReported = false;
        }
        if (dOver && !dataOver) {
            pool.publish(new PoolEvent(PoolEvent.Kind.THRESHOLD, "data", "data space " + percent(u.dataBlocksUsed(),
                    u.dataBlocks()) + "% used, at or past " + mark + "%" + (p.autoextends() ? " (the autoextend threshold)" : ""),
                    u.dataBlocksUsed(), u.dataBlocks()));
        }
        if (mOver && !metadataOver) {
            pool.publish(new PoolEvent(PoolEvent.Kind.THRESHOLD, "metadata", "metadata space "
                    + percent(u.metadataBlocksUsed(), u.metadataBlocks()) + "% used, at or past " + mark + "%"
                    + (p.autoextends() ? " (the autoextend threshold)" : ""), u.metadataBlocksUsed(), u.metadataBlocks()));
        }
        dataOver = dOver;
        metadataOver = mOver;
        if (!p.autoextends()) {
            return;
        }
        if (dOver) {
            extendData(u, p);
        }
        if (mOver) {
            extendMetadata(u, p);
        }
    }

    /**
     * A writer found the data space full: grows it if the policy allows, or holds the writer while {@code
     * when-full=wait} and its 60 s last. True: try the write again; false: give the writer ENOSPC.
     */
    @Override
    public boolean retryAfterFull(long firstFailureNanos) {
        SpacePolicy p = policy;
        synchronized (this) {
            PoolUsage u = pool.usage();
            if (p.autoextends() && extendData(u, p)) {
                return true;
            }
            if (!fullReported) {
                fullReported = true;
                pool.publish(new PoolEvent(PoolEvent.Kind.OUT_OF_SPACE, "data", "the data space is full ("
                        + u.dataBlocks() + " blocks)" + (p.whenFull() == SpacePolicy.WhenFull.WAIT
                        ? "; writers wait up to " + waitNanos / 1_000_000 + " ms for space" : "; writers get ENOSPC"),
                        u.dataBlocksUsed(), u.dataBlocks()));
            }
        }
        if (p.whenFull() != SpacePolicy.WhenFull.WAIT || System.nanoTime() - firstFailureNanos >= waitNanos
                || pool.isReadOnly()) {
            return false;
        }
        try {
            Thread.sleep(POLL_MILLIS); // space comes from a resize, a delete's commit or autoextend: all poll-free
            pool.observer().waitedForSpace(POLL_MILLIS * 1_000_000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    private boolean extendData(PoolUsage u, SpacePolicy p) {
        long bs = u.dataBlockSize();
        long want = u.dataBlocks() + Math.max(1, u.dataBlocks() * p.percent() / 100);
        long cap = p.maxBytes() > 0 ? p.maxBytes() / bs : Long.MAX_VALUE;
        long freeNow = u.dataBlocks() - u.dataBlocksUsed();
        long host = hostFreeBytes.getAsLong();
        long hostCap = host == Long.MAX_VALUE ? Long.MAX_VALUE
                : u.dataBlocksUsed() + Math.max(0, (host - hostMargin(host)) / bs);
        long target = Math.min(want, Math.min(cap, hostCap));
        if (target <= u.dataBlocks()) {
            if (freeNow == 0) {
                LOG.warn("pool {}: cannot autoextend the data space past {} blocks ({})", pool.name(), u.dataBlocks(),
                        target >= cap && cap <= hostCap ? "autoextend-max reached" : "the host file system is full");
            }
            return false;
        }
        try {
            pool.resizeData(target);
        } catch (RuntimeException e) {
            LOG.error("pool {}: autoextend of the data space failed: {}", pool.name(), e.getMessage());
            return false;
        }
        LOG.info("pool {}: autoextended the data space from {} to {} blocks", pool.name(), u.dataBlocks(), target);
        fullReported = false;
        return true;
    }

    private void extendMetadata(PoolUsage u, SpacePolicy p) {
        long want = Math.min(Layout.MAX_METADATA_BLOCKS, u.metadataBlocks()
                + Math.max(16, u.metadataBlocks() * p.percent() / 100));
        long host = hostFreeBytes.getAsLong();
        if (host != Long.MAX_VALUE) {
            want = Math.min(want, u.metadataBlocks() + Math.max(0, (host - hostMargin(host)) / Layout.BLOCK_SIZE));
        }
        if (want <= u.metadataBlocks()) {
            return;
        }
        try {
            pool.resizeMetadata(want);
            LOG.info("pool {}: autoextended the metadata space from {} to {} blocks", pool.name(),
                    u.metadataBlocks(), want);
        } catch (IOException | RuntimeException e) {
            LOG.error("pool {}: autoextend of the metadata space failed: {}", pool.name(), e.getMessage());
        }
    }

    /** Host space kept free: 1% of what is free now, at least 64 MiB. */
    static long hostMargin(long hostFree) {
        return Math.max(64L << 20, hostFree / 100);
    }

    private static boolean over(long used, long total, int threshold) {
        return total > 0 && used * 100 >= total * threshold;
    }

    private static long percent(long a, long b) {
        return b == 0 ? 0 : a * 100 / b;
    }
}
