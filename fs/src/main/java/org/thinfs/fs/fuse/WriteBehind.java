package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.WriteSignal;
import org.thinfs.fs.model.PeriodicCommit;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
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
 *
 * <p>It writes back the 1 MiB chunks written since its last pass ({@link WriteSignal#drainChunks}), not the whole
 * file, and leaves a chunk it wrote back less than {@link #HOT_NANOS} ago for later: a writer that writes each chunk
 * once (dd, a copy, mkfs) is followed as closely as ever, and one that keeps rewriting a region is not chased
 * through it again and again. Passes that find only such chunks back off (a larger gather each time).
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

    /**
     * A chunk whose writeback started less than this long ago is not started again (see {@link #writeBackChunks}).
     * Why: a writer that keeps rewriting the same region (fio's time-based jobs; a database's hot pages) had every MiB
     * of it written back as soon as written, then written again, and this thread woke for every MiB: measured
     * (bench/seqwrite-methods.sh, a provisioned 512 MiB file rewritten about 18 times in 6 s, thinfs / qcow2, harness
     * and outside methods), 0.93 / 0.90 before, 0.96 / 0.97 with this and the backoff, 0.98 / 0.99 with no
     * write-behind at all. A writer that writes each chunk once is written back as promptly as before.
     */
    static final long HOT_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("thinfs.writeBehindHotMs", 2000));
    /** How far the gather grows while passes find nothing to write back (64 MiB or 20 periods at most). */
    private static final int BACKOFF = 64;
    /** How often chunks left waiting are looked at again, at most. */
    private static final long RESCAN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Chunk -> when its last writeback started (System.nanoTime); entries older than HOT_NANOS are dropped. */
    private final Map<Long, Long> startedAt = new HashMap<>();
    /** Chunks written but not yet written back, ascending. */
    private final TreeSet<Long> waiting = new TreeSet<>();
    private long lastRescan;

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

    /** A write-behind of {@code data} that no thread drives: its passes are called by hand (tests). */
    static WriteBehind unstarted(Path data, Runnable fallback) {
        return new WriteBehind(openOrFallBack(data), fallback);
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
            refused();
        }
    }

    private void refused() {
        LOG.debug("sync_file_range refused; write-behind falls back to full flushes");
        useFallback = true;
        fallback.run();
    }

    /**
     * Starts the writeback of the 1 MiB chunks written since the last pass, except those whose writeback started
     * less than {@link #HOT_NANOS} ago: they are being written over and over, and each writeback of them would be
     * undone by the next write. Those wait until their time is up (checked at most every {@link #RESCAN_NANOS}), or
     * go with the next commit's flush. The write-behind thread only.
     */
    int writeBackChunks(long[] written, long now) {
        if (useFallback) {
            fallback.run();
            return written.length;
        }
        for (long c : written) {
            waiting.add(c);
        }
        boolean rescan = now - lastRescan >= RESCAN_NANOS;
        if (rescan) {
            lastRescan = now;
            startedAt.values().removeIf(t -> now - t >= HOT_NANOS);
        }
        long runStart = -1;
        long runEnd = -1;
        int started = 0;
        long[] candidates = rescan ? waiting.stream().mapToLong(Long::longValue).toArray() : written;
        for (long c : candidates) {
            Long last = startedAt.get(c);
            if (last != null && now - last < HOT_NANOS) {
                continue;                               // written back a moment ago: stays waiting
            }
            waiting.remove(c);
            startedAt.put(c, now);
            started++;
            if (c == runEnd) {
                runEnd++;
                continue;
            }
            if (runStart >= 0 && !startWriteback(runStart, runEnd)) {
                return started;
            }
            runStart = c;
            runEnd = c + 1;
        }
        if (runStart >= 0) {
            startWriteback(runStart, runEnd);
        }
        return started;
    }

    /** sync_file_range(WRITE) of chunks [from, to); false (and fallen back to full flushes) when refused. */
    private boolean startWriteback(long from, long to) {
        int shift = WriteSignal.CHUNK_SHIFT;
        if (C.sync_file_range(fd, from << shift, (to - from) << shift, SYNC_FILE_RANGE_WRITE) != 0) {
            refused();
            return false;
        }
        return true;
    }

    /**
     * Runs the write-behind on a thread of its own: it waits for a write, lets {@code periodMs} of writes or
     * {@link #GATHER_BYTES} gather, whichever comes first, starts their writeback, and waits again. Without a signal
     * from the store, runs every {@code periodMs} on {@code timer} instead (null: not at all). A period of 0 or less:
     * no write-behind.
     */
    void start(WriteSignal writes, long periodMs, PeriodicCommit timer) {
        if (periodMs <= 0) {
            return;
        }
        if (writes == null) {
            if (timer != null) {                        // none for the warm-up's scratch pool
                timer.alsoEvery(periodMs, "write-behind flush", this);
            }
            return;
        }
        writes.trackChunks();
        thread = new Thread(() -> {
            // A pass that found only chunks written back a moment ago doubles the next gather (to BACKOFF times at
            // most): a writer rewriting one region wakes this thread a few times a second instead of a thousand.
            int backoff = 1;
            while (!closed) {
                if (!writes.await(TimeUnit.SECONDS.toNanos(60))) {
                    continue;                           // still idle, or woken by close (which unparks it)
                }
                writes.gather(GATHER_BYTES * backoff, TimeUnit.MILLISECONDS.toNanos(periodMs) * backoff);
                if (closed) {
                    return;
                }
                try {
                    int started = writeBackChunks(writes.drainChunks(), System.nanoTime());
                    backoff = started > 0 ? 1 : Math.min(backoff * 2, BACKOFF);
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
