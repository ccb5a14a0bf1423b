package org.thinfs.fs.fuse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.metrics.PoolMetrics;
import org.thinfs.fs.model.Handle;
import org.thinfs.fs.model.PoolFileSystem;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Runs the request paths once over before the mount appears (or the NBD server answers), so a user's first requests
 * do not pay for them.
 *
 * <p>Why: a JVM runs new code slowly at first (classes loaded and linked, lambdas bootstrapped, code interpreted
 * until compiled). Measured on the 2-core VM, the first {@code mkfs.ext4} on a loop device over a fresh daemon took
 * 0.10-0.16 s and the same on a fresh volume of a daemon that had served a few hundred requests 0.04-0.05 s
 * (BENCHMARKS.md, session 6). So the daemon first drives the same code (the request loop's answers, ThinFuse,
 * PoolFileSystem, the engine's write, read, fallocate modes and commit; see {@link WarmupRequests}) on a scratch pool
 * of its own, in {@code /dev/shm} when it can (no disk I/O), with the mount's block size and write settings, for a
 * bounded time; then deletes it. The user's pool is never touched, and nothing here can fail the mount: an error is logged and the mount goes on.
 *
 * <p>It runs two passes and waits for the compiler after each. While the first pass runs, the compiler's queue is
 * long and the JVM raises its thresholds with the queue's length ({@code Tier3LoadFeedback}), so code the pass ran
 * hundreds of times may still be interpreted at its end; the second pass, once the queue is empty, crosses the
 * thresholds again. Traced on the 2-core VM (ftrace of one mkfs.ext4 on a loop device over a fresh volume, with
 * -XX:+PrintCompilation): after one pass, the zero-range path, the worker loop's bookkeeping and the fsync's
 * times-log path were compiled in the middle of mkfs, a C1 compilation taking the core from a request for 450-700 us
 * three times, and mkfs's last fsync ran interpreted (1.1-1.3 ms); after two, in six runs of seven, mkfs met no
 * more than two small methods being compiled, and its last fsync took 0.4-0.9 ms. (The daemon's lower compile
 * thresholds for thinfs's code, Daemonizer, cover the seventh kind: a slow start whose first pass ran few rounds.)
 */
public final class Warmup {
    private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);
    /**
     * Time each pass spends at most (the wait for the compiler after it comes on top, at most {@link #SETTLE_MS});
     * 0 turns the warm-up off (-Dthinfs.warmupMs=0).
     */
    private static final long BUDGET_MS = Long.getLong("thinfs.warmupMs", 300);
    /** Rounds of the first pass, at most. */
    private static final int ROUNDS = 200;
    /**
     * Rounds of the second pass, at most: the interpreter asks for a method's compilation every 128 calls, so this
     * covers what a round does twice or more.
     */
    private static final int SECOND_ROUNDS = 64;
    private static final int FSYNCS = 400;
    /** How long the warm-up waits for the compiler to go idle, at most, after each pass. */
    private static final long SETTLE_MS = 300;
    private static final long VOLUME = 64L << 20;
    private static final byte[] ZEROS = new byte[65536];
    /** A loop device's write size, taken by splice. */
    private static final int SPLICED = 512 << 10;

    private Warmup() {
    }

    /** Warms up for a pool like {@code like} (its block size, zero-write and copy-sharing settings). */
    public static void run(ThinPool like) {
        if (BUDGET_MS <= 0) {
            return;
        }
        long start = System.nanoTime();
        Path dir = null;
        try {
            Path shm = Path.of("/dev/shm");
            dir = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "thinfs-warmup-") : Files.createTempDirectory("thinfs-warmup-");
            int rounds = exercise(dir, like, start + BUDGET_MS * 1_000_000);
            LOG.info("request paths warmed up in {} ms ({} rounds on a scratch pool in {}, deleted)",
                    (System.nanoTime() - start) / 1_000_000, rounds, dir);
        } catch (IOException | RuntimeException e) {
            LOG.info("warm-up skipped: {}", e.toString());
        } finally {
            if (dir != null) {
                deleteTree(dir);
            }
        }
        // The warm-up's garbage fills most of the young generation (the daemon's heap is small, Daemonizer), so the
        // user's first workload met a collection within milliseconds: a 2-6 ms pause of every request in flight
        // (-Xlog:gc during mkfs.ext4 on a loop device). Collected here instead, before the mount appears.
        System.gc();
    }

    private static int exercise(Path dir, ThinPool like, long deadline) throws IOException {
        long block = like.dataBlockSize();
        Path metadata = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        ThinPool.create(metadata, data, new PoolConfig(block, 2 * VOLUME + 64 * block, 4L << 20),
                PoolOptions.DEFAULT).close();
        int rounds = 0;
        try (HolePuncher puncher = new HolePuncher(data);
             PoolFileSystem fs = PoolFileSystem.open(openLike(metadata, data, like, puncher), dir);
             // The mount's write-behind too: its first pass loads classes, bootstraps lambdas and binds
             // sync_file_range, 1-2 ms of CPU that otherwise fell in the middle of mkfs (ftrace: the write-behind
             // thread reading the JDK's class image while the loop device waited on a 512 KiB write).
             WriteBehind writeBehind = WriteBehind.startFor(fs, data, null)) {
            fs.createVolume("/a", 0600);
            fs.createVolume("/b", 0600);
            fs.truncate("/a", VOLUME);
            fs.truncate("/b", VOLUME);
            Handle a = fs.open("/a", true);
            Handle b = fs.open("/b", true);
            ThinFuse fuse = new ThinFuse(fs, 0, 0);
            fuse.setRequestStats(PoolMetrics.unreadFront());  // counted as the mount's requests are, unseen
            try (WarmupRequests requests = new WarmupRequests(fuse, dir, data)) {
                long fhA = requests.fuse().adopt(a, "/a", 2);
                long fhB = requests.fuse().adopt(b, "/b", 3);
                SplittableRandom rnd = new SplittableRandom(rounds);
                byte[] noise = new byte[1 << 20];
                new java.util.Random(rnd.nextLong()).nextBytes(noise);
                ByteBuffer buf = ByteBuffer.allocateDirect(65536);
                for (int pass = 0; pass < 2; pass++) {  // the second once the compiler caught up (see above)
                    long now = System.nanoTime();
                    long end = pass == 0 ? deadline : now + BUDGET_MS * 1_000_000;
                    // A quarter at most; the second pass's fsyncs map blocks of the volume's second half.
                    fsyncs(requests, fhA, noise, rnd, block, pass == 0 ? 0 : VOLUME / block / 2, now + (end - now) / 4);
                    for (int r = 0; r < (pass == 0 ? ROUNDS : SECOND_ROUNDS) && System.nanoTime() < end; r++) {
                        round(fs, requests, fhA, fhB, a, buf, noise, rnd, block);
                        rounds++;
                    }
                    awaitIdleCompiler();
                }
            }
            fs.release(a);
            fs.release(b);
            fs.unlink("/b");
            fs.commit();
        }
        return rounds;
    }

    private static ThinPool openLike(Path metadata, Path data, ThinPool like, HolePuncher puncher)
            throws IOException {
        ThinPool pool = ThinPool.open(metadata, data, PoolOptions.DEFAULT.withZeroHoles(puncher));
        pool.setZeroWrites(like.zeroWrites());
        pool.setCopySharing(like.copySharing());
        return pool;
    }

    /**
     * One round of what a formatted disk sees, through the request loop: small and large writes, zeros, reads,
     * copies, the fallocate modes, lseek; and what NBD adds (reads that report holes) and commits.
     */
    private static void round(PoolFileSystem fs, WarmupRequests requests, long fhA, long fhB,
                              Handle a, ByteBuffer buf, byte[] noise, SplittableRandom rnd, long block)
            throws IOException {
        int[] sizes = {4096, 65536, 131072, 1 << 20};
        for (int size : sizes) {
            long at = rnd.nextLong(VOLUME / size) * size;
            long stamp = rnd.nextLong();                // no two writes alike (a fill loop would itself run cold)
            requests.write(fhA, at, noise, size, stamp);
            requests.read(fhA, at, size);
            requests.write(fhB, at, noise, size, stamp);  // a copy of what was just read: the copy-sharing path
            if (size == 65536) {
                for (int k = 0; k < 4; k++) {           // small writes into a mapped block: the shared-lock path
                    requests.write(fhA, at + 4096L * k, noise, 4096, rnd.nextLong());
                }
                buf.clear();
                fs.readReportingHoles(a, at, buf);
            }
        }
        // The spliced writes' engine path and the request loop's: copy sharing, which the reads above woke, turns
        // splicing off for 30 s, so it is off here. Without this a mount's first large write ran both cold
        // (instrumented mkfs.ext4 on a loop device: deciding to decline its first 512 KiB write into new blocks
        // took 1.6-3.0 ms, the next ones 2-50 us; the call sites of the in-place write were first linked there).
        boolean sharing = fs.pool().copySharing();
        fs.pool().setCopySharing(false);
        try {
            // As a worker takes a large write: into new blocks (declined, read, written as any write), then again
            // once mapped (spliced in place).
            long spliceAt = rnd.nextLong(VOLUME / SPLICED) * SPLICED;
            requests.splicedWrite(fhA, spliceAt, noise, SPLICED, rnd.nextLong());
            requests.splicedWrite(fhA, spliceAt, noise, SPLICED, rnd.nextLong());
        } finally {
            fs.pool().setCopySharing(sharing);
        }
        requests.write(fhA, rnd.nextLong(VOLUME / 65536) * 65536, ZEROS, ZEROS.length, 0);
        long range = Math.min(4 * block, VOLUME / 2);  // 4 blocks (a large block size: part of one)
        for (int k = 0; k < 2; k++) {   // twice: mkfs sends dozens in a row, which must find them compiled
            long at = rnd.nextLong(VOLUME / range - 1) * range;
            requests.fallocate(fhA, ThinFuse.FALLOC_FL_PUNCH_HOLE | ThinFuse.FALLOC_FL_KEEP_SIZE, at, range);
            requests.fallocate(fhA, ThinFuse.FALLOC_FL_ZERO_RANGE | ThinFuse.FALLOC_FL_KEEP_SIZE, at + 4096,
                    range - 8192);                                          // partial edges and whole blocks
            requests.fallocate(fhA, ThinFuse.FALLOC_FL_ZERO_RANGE | ThinFuse.FALLOC_FL_KEEP_SIZE, at, range);
            requests.fallocate(fhB, ThinFuse.FALLOC_FL_KEEP_SIZE, at, block);
        }
        requests.seek(fhA, 0, ThinFuse.SEEK_DATA);
        requests.seek(fhA, 0, ThinFuse.SEEK_HOLE);
        fs.getattr(a);
        int commit = rnd.nextInt(8);            // a commit costs milliseconds: one round in four, so more fit
        if (commit == 0) {
            requests.fsync(fhA, false);
        } else if (commit == 1) {
            requests.fsync(fhA, true);
        }
    }

    /**
     * Full fsyncs, over and over, the two kinds a loop device sends: after a write in place only times change, so
     * the fsync writes the times log; after a write into a new block it commits. Cheap here (the scratch pool's
     * flushes cost nothing in /dev/shm) and done often enough that their code is compiled: run only the few dozen
     * times the rounds below run them, they were still interpreted when mkfs came (0.4 ms of CPU per fsync, traced).
     */
    private static void fsyncs(WarmupRequests requests, long fh, byte[] noise, SplittableRandom rnd, long block,
                               long firstBlock, long deadline) {
        requests.write(fh, firstBlock * block, noise, 4096, rnd.nextLong());
        requests.fsync(fh, false);                              // maps the first block and commits it
        for (int i = 1; i <= FSYNCS && System.nanoTime() < deadline; i++) {
            long fresh = firstBlock + i / 2 + 1;
            boolean commits = i % 2 == 1 && fresh * block < VOLUME;
            requests.write(fh, (commits ? fresh : firstBlock) * block, noise, 4096, rnd.nextLong());
            requests.fsync(fh, false);
        }
    }

    /**
     * Waits until the JIT compiler has been idle for 10 ms, {@link #SETTLE_MS} at most: its total compilation time
     * stops growing. Returns at once where the JVM does not measure it.
     */
    private static void awaitIdleCompiler() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long end = System.nanoTime() + SETTLE_MS * 1_000_000;
        long before = jit.getTotalCompilationTime();
        while (System.nanoTime() < end) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = jit.getTotalCompilationTime();
            if (now == before) {
                return;
            }
            before = now;
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.info("could not delete the warm-up's scratch pool {}: {}", dir, e.toString());
        }
    }
}
