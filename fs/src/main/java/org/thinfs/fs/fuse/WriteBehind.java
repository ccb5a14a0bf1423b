package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.WriteSignal;
import org.thinfs.fs.model.PeriodicCommit;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The daemon's write-behind: while data is being written, every few milliseconds start writing the data file's dirty
 * pages to disk, so a commit (a namespace change, fsync) finds little left to flush and mkdir under a saturating
 * writer waits milliseconds. While nothing is written it sleeps ({@link WriteSignal}): an idle daemon does not wake
 * fifty times a second.
 *
 * <p>Only starting the writeback ({@code sync_file_range(SYNC_FILE_RANGE_WRITE)}: no wait, no journal commit, no
 * device cache flush) is enough for that, and costs the writer far less than the fdatasync the daemon used to run
 * 50 times a second, each with a cache flush of the disk. Durability never rests on it: every commit still
 * fdatasyncs the data file before it writes the superblock. Where the call is missing, the full flush is the
 * fallback.
 */
final class WriteBehind implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteBehind.class);
    private static final int SYNC_FILE_RANGE_WRITE = 2;
    /** How long writes gather before their writeback starts, at most; 0 turns the write-behind off (for A/B runs). */
    static final long PERIOD_MS = Long.getLong("thinfs.writeBehindMs", 20);
    /**
     * A burst this large starts its writeback at once rather than at the end of the period, so the disk works while
     * the burst is still arriving and the fsync that usually ends it has less left to write (the same idea as
     * RocksDB's bytes_per_sync). Measured A/B in one jar (session 12): dd of 1 GiB into a mounted volume + fsync
     * 0.94-1.03 s against 0.98-1.17 with the period alone; an NBD copy of 1 GiB + FLUSH 0.62-0.67 s against 0.76; the
     * flush ending mkfs.ext4 on a loop device, median 9.8 against 10.5 ms. Coarser steps did not help: with 8 MiB
     * steps the NBD copy took 0.69-0.72 s, with 1 MiB 0.61-0.65.
     */
    static final long GATHER_BYTES = Long.getLong("thinfs.writeBehindBytes", 1L << 20);

    /** libc calls the write-behind makes. */
    public interface Libc {
        int open(String path, int flags);

        int sync_file_range(int fd, long offset, long nbytes, int flags);

        int close(int fd);
    }

    private static final Libc C = LibraryLoader.create(Libc.class).failImmediately().load("c");

    private final int fd;
    private final Runnable fallback;
    private volatile boolean useFallback;
    private volatile boolean closed;
    private Thread thread;

    private WriteBehind(int fd, Runnable fallback) {
        this.fd = fd;
        this.fallback = fallback;
        this.useFallback = fd < 0;
    }

    /**
     * Starts the write-behind of the mounted pool's data file at {@code data}: its writeback starts every
     * {@link #PERIOD_MS} or {@link #GATHER_BYTES}, whichever comes first, while data is written. ({@code thinfs serve}
     * runs none: on this 2-core VM it cost qemu-img bench's 1 MiB writes 15-30% in page-cache throughput, though it made
     * nbdcopy in + FLUSH 40% faster; BENCHMARKS.md, session 12.) Where it cannot start a writeback, each pass is a
     * full data flush.
     */
    static WriteBehind startFor(org.thinfs.fs.model.PoolFileSystem fs, Path data, PeriodicCommit timer) {
        WriteBehind w = new WriteBehind(openOrFallBack(data), () -> fs.pool().flushData());
        w.start(fs.pool().dataWrites(), PERIOD_MS, timer);
        return w;
    }

    private static int openOrFallBack(Path data) {
        // -Dthinfs.writeBehind=flush: the full flush every time (for comparing the two in one benchmark run).
        boolean flushOnly = "flush".equals(System.getProperty("thinfs.writeBehind"));
        int fd = flushOnly ? -1 : C.open(data.toAbsolutePath().toString(), 0);
        if (fd < 0) {
            LOG.debug("write-behind for {} falls back to full flushes", data);
        }
        return fd;
    }

    @Override
    public void run() {
        if (useFallback) {
            fallback.run();
        } else if (C.sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0) {
            LOG.debug("sync_file_range refused; write-behind falls back to full flushes");
            useFallback = true;
            fallback.run();
        }
    }

    /**
     * Runs the write-behind on a thread of its own: it waits for a write, lets {@code periodMs} of writes or
     * {@link #GATHER_BYTES} gather, whichever comes first, starts their writeback, and waits again. Without a signal
     * from the store, runs every {@code periodMs} on {@code timer} instead. A period of 0 or less: no write-behind.
     */
    void start(WriteSignal writes, long periodMs, PeriodicCommit timer) {
        if (periodMs <= 0) {
            return;
        }
        if (writes == null) {
            timer.alsoEvery(periodMs, "write-behind flush", this);
            return;
        }
        thread = new Thread(() -> {
            while (!closed) {
                if (!writes.await(TimeUnit.SECONDS.toNanos(60))) {
                    continue;                           // still idle, or woken by close (which unparks it)
                }
                writes.gather(GATHER_BYTES, TimeUnit.MILLISECONDS.toNanos(periodMs));
                if (closed) {
                    return;
                }
                try {
                    run();
                } catch (RuntimeException e) {
                    LOG.debug("write-behind flush failed: {}", e.getMessage());
                }
            }
        }, "thinfs-write-behind");
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops the thread, waiting for a flush in flight (never interrupting it), and closes the descriptor. */
    @Override
    public void close() {
        closed = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (fd >= 0) {
            C.close(fd);
        }
    }
}
