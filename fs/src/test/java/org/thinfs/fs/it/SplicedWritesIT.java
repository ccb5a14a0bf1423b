package org.thinfs.fs.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large writes in place are spliced from /dev/fuse straight into the data file (SpliceReceiver): random writes of
 * 4 KiB to 3 MiB, aligned or not, over a provisioned volume with snapshot sets taken underneath (so some writes find
 * their blocks shared and go the copy-on-write way from memory), checked byte for byte against a model, the volume
 * and every snapshot; then writers in parallel on disjoint ranges while snapshots are taken. The metrics must show
 * spliced bytes, so the path under test ran. Mounted with --copies write: copy sharing, while it follows reads,
 * needs every write's bytes in memory and would take them all the other way.
 */
class SplicedWritesIT {
    private static final int SIZE = 48 << 20;
    private static final int OPS = Integer.getInteger("thinfs.it.spliceOps", 240);

    @TempDir
    static Path tmp;
    static MountedPool p;
    static int metricsPort;

    @BeforeAll
    static void mount() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            metricsPort = s.getLocalPort();
        }
        p = MountedPool.created(tmp, "1G");
        p.mount("--copies", "write", "--metrics", Integer.toString(metricsPort));
    }

    @AfterAll
    static void unmount() throws Exception {
        p.close();
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check");
    }

    private static long splicedBytes() throws Exception {
        String scraped = Sh.run(tmp, List.of("curl", "-sf", "http://127.0.0.1:" + metricsPort + "/metrics")).ok()
                .out();
        Matcher m = Pattern.compile("(?m)^thinfs_fuse_spliced_bytes_total\\{[^}]*} ([0-9.eE+]+)$").matcher(scraped);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }

    private static byte[] readAll(Path file) throws Exception {
        return Files.readAllBytes(file);
    }

    private static void pwrite(FileChannel ch, long at, byte[] b) throws Exception {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            at += ch.write(buf, at);
        }
    }

    /** A size from 4 KiB to 3 MiB, mostly at or above the splice threshold, and an offset aligned or not. */
    private static int[] randomWrite(Random rnd, int volumeSize) {
        int kind = rnd.nextInt(10);
        int size = kind < 2 ? 4096 + rnd.nextInt(124 << 10)
                : kind < 8 ? (128 << 10) + rnd.nextInt(896 << 10) : (1 << 20) + rnd.nextInt(2 << 20);
        int at = rnd.nextInt(volumeSize - size);
        if (rnd.nextBoolean()) {
            at &= ~4095;
        }
        return new int[] {at, size};
    }

    @Test
    void randomWritesOverSnapshotsMatchTheModel() throws Exception {
        long seed = Long.getLong("thinfs.it.seed", System.nanoTime());
        Random rnd = new Random(seed);
        p.sh("truncate -s " + SIZE + " v && dd if=/dev/urandom of=v bs=1M count=" + (SIZE >> 20)
                + " conv=notrunc,fsync status=none").ok();
        byte[] model = readAll(p.mnt.resolve("v"));
        List<byte[]> snapshots = new ArrayList<>();
        long before = splicedBytes();
        int op = 0;
        try (FileChannel ch = FileChannel.open(p.mnt.resolve("v"), StandardOpenOption.WRITE)) {
            for (op = 0; op < OPS; op++) {
                if (rnd.nextInt(12) == 0) {
                    p.sh("mkdir snapshots/r" + snapshots.size()).ok();
                    snapshots.add(model.clone());
                    continue;
                }
                int[] w = randomWrite(rnd, SIZE);
                byte[] b = new byte[w[1]];
                rnd.nextBytes(b);
                pwrite(ch, w[0], b);
                System.arraycopy(b, 0, model, w[0], b.length);
                if (op % 60 == 59) {
                    ch.force(false);
                    assertArrayEquals(model, readAll(p.mnt.resolve("v")), "the volume after the op");
                }
            }
        } catch (AssertionError | Exception e) {
            throw new AssertionError("seed " + seed + ", op " + op + ": " + e.getMessage(), e);
        }
        assertArrayEquals(model, readAll(p.mnt.resolve("v")), "seed " + seed + ": the volume at the end");
        for (int s = 0; s < snapshots.size(); s++) {
            assertArrayEquals(snapshots.get(s), readAll(p.mnt.resolve("snapshots/r" + s + "/v")),
                    "seed " + seed + ": snapshot r" + s);
        }
        long spliced = splicedBytes() - before;
        assertTrue(spliced > 0, "no write was spliced (seed " + seed + ")");
        p.sh("rm -rf v snapshots/r*").ok();
    }

    @Test
    void parallelWritersAndSnapshotsKeepEveryByte() throws Exception {
        int writers = 4;
        int share = SIZE / writers;
        p.sh("truncate -s " + SIZE + " w && dd if=/dev/urandom of=w bs=1M count=" + (SIZE >> 20)
                + " conv=notrunc,fsync status=none").ok();
        byte[] model = readAll(p.mnt.resolve("w"));
        long before = splicedBytes();
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<byte[]> snapshots = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(p.mnt.resolve("w"), StandardOpenOption.WRITE)) {
            for (int round = 0; round < 6; round++) {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < writers; t++) {
                    int base = t * share;
                    long seed = round * 31L + t;
                    done.add(pool.submit(() -> {
                        Random rnd = new Random(seed);
                        for (int i = 0; i < 8; i++) {
                            int[] w = randomWrite(rnd, share);
                            byte[] b = new byte[w[1]];
                            rnd.nextBytes(b);
                            pwrite(ch, base + w[0], b);
                            synchronized (model) {
                                System.arraycopy(b, 0, model, base + w[0], b.length);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
                p.sh("mkdir snapshots/p" + round).ok();
                snapshots.add(model.clone());
            }
        } finally {
            pool.shutdown();
        }
        assertArrayEquals(model, readAll(p.mnt.resolve("w")), "the volume after the parallel writers");
        for (int s = 0; s < snapshots.size(); s++) {
            assertTrue(Arrays.equals(snapshots.get(s), readAll(p.mnt.resolve("snapshots/p" + s + "/w"))),
                    "snapshot p" + s);
        }
        assertTrue(splicedBytes() > before, "no write was spliced");
        p.sh("rm -rf w snapshots/p*").ok();
    }
}
