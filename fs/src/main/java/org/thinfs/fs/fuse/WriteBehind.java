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
final class WriteBehind implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteBehind.class);
    private static final int SYNC_FILE_RANGE_WRITE = 2;

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

    /** Write-behind for the data file at {@code data}; {@code flush} (a full data flush) where it cannot start one. */
    static WriteBehind of(Path data, Runnable flush) {
        // -Dthinfs.writeBehind=flush: the full flush every time (for comparing the two in one benchmark run).
        boolean flushOnly = "flush".equals(System.getProperty("thinfs.writeBehind"));
        int fd = flushOnly ? -1 : C.open(data.toAbsolutePath().toString(), 0);
        if (fd < 0) {
            LOG.debug("write-behind for {} falls back to full flushes", data);
        }
        return new WriteBehind(fd, flush);
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
     * Runs the write-behind on a thread of its own: it waits for a write, lets {@code periodMs} of writes gather,
     * starts their writeback, and waits again. Without a signal from the store, runs every {@code periodMs} on
     * {@code timer} instead.
     */
    void start(WriteSignal writes, long periodMs, PeriodicCommit timer) {
        if (writes == null) {
            timer.alsoEvery(periodMs, "write-behind flush", this);
            return;
        }
        thread = new Thread(() -> {
            while (!closed) {
                if (!writes.await(TimeUnit.SECONDS.toNanos(60))) {
                    continue;                           // still idle, or woken by close (which unparks it)
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(periodMs));
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
    void close() {
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
