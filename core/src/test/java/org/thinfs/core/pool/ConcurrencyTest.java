package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writers on two volumes (own blocks and a contended hot range) while another thread takes snapshots and commits.
 * Every block of a volume or snapshot must hold exactly one complete version that some writer wrote to that block
 * (or zeros), the volumes must end with each writer's last version of its own blocks, and thin_check must pass.
 */
class ConcurrencyTest {
    private static final int BLOCK = 64 * 1024;
    private static final int WRITERS = 4;
    private static final int OWN_BLOCKS = 24;
    private static final int HOT_BLOCKS = 4;

    @TempDir
    Path dir;

    @Test
    void writersSnapshotsAndCommits() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        List<Long> snapshots = new CopyOnWriteArrayList<>();
        // (volume, block) -> every stamp ever written there; stamp 0 means zeros.
        Map<String, Set<Integer>> history = new ConcurrentHashMap<>();
        int[][] last = new int[2][WRITERS * OWN_BLOCKS + HOT_BLOCKS];
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 4000L * BLOCK, 8L << 20),
                PoolOptions.DEFAULT)) {
            pool.createThin(1);
            pool.createThin(2);
            ExecutorService ex = Executors.newFixedThreadPool(WRITERS + 1);
            AtomicBoolean done = new AtomicBoolean();
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < WRITERS; t++) {
                int thread = t;
                writers.add(ex.submit(() -> {
                    Random rnd = new Random(thread);
                    ByteBuffer buf = ByteBuffer.allocate(BLOCK);
                    // 400 writes, and more until two snapshots were taken under them: on a loaded machine the
                    // snapshot thread may not be scheduled before the writers are done.
                    for (int i = 1; i <= 400 || (snapshots.size() < 2 && i < 200_000); i++) {
                        int vol = rnd.nextInt(2);
                        boolean hot = rnd.nextInt(5) == 0;
                        int block = hot ? WRITERS * OWN_BLOCKS + rnd.nextInt(HOT_BLOCKS)
                                : thread * OWN_BLOCKS + rnd.nextInt(OWN_BLOCKS);
                        int stamp = (thread + 1) << 20 | i;
                        history.computeIfAbsent(vol + "/" + block, k -> ConcurrentHashMap.newKeySet()).add(stamp);
                        fill(buf, stamp);
                        pool.device(vol + 1).write((long) block * BLOCK, buf);
                        if (!hot) {
                            last[vol][block] = stamp;
                        }
                    }
                    return null;
                }));
            }
            Future<?> snapper = ex.submit(() -> {
                long id = 10;
                while (!done.get() && snapshots.size() < 12) {
                    pool.createSnapshot(id, 1 + (id % 2));
                    snapshots.add(id++);
                    pool.commit();
                    Thread.sleep(5);
                }
                return null;
            });
            for (Future<?> f : writers) {
                f.get(120, TimeUnit.SECONDS);
            }
            done.set(true);
            snapper.get(60, TimeUnit.SECONDS);
            ex.shutdown();

            ByteBuffer buf = ByteBuffer.allocate(BLOCK);
            for (int vol = 0; vol < 2; vol++) {
                for (int b = 0; b < last[vol].length; b++) {
                    buf.clear();
                    pool.device(vol + 1).read((long) b * BLOCK, buf);
                    int stamp = stampOf(buf, "volume " + (vol + 1) + " block " + b);
                    if (b < WRITERS * OWN_BLOCKS) {
                        assertEquals(last[vol][b], stamp, "volume " + (vol + 1) + " block " + b);
                    } else {
                        assertTrue(stamp == 0 || history.get(vol + "/" + b).contains(stamp));
                    }
                }
            }
            for (long snap : snapshots) {
                int vol = (int) (snap % 2);
                for (int b = 0; b < last[vol].length; b++) {
                    buf.clear();
                    pool.device(snap).read((long) b * BLOCK, buf);
                    int stamp = stampOf(buf, "snapshot " + snap + " block " + b);
                    Set<Integer> h = history.get(vol + "/" + b);
                    assertTrue(stamp == 0 || (h != null && h.contains(stamp)),
                            "snapshot " + snap + " block " + b + " holds stamp " + stamp + " never written there");
                }
            }
            assertTrue(snapshots.size() >= 2, "snapshots were taken while writers ran");
        }
        PoolRandomTest.thinCheck(meta, "after concurrent run");
    }

    /**
     * 4 KiB writes into shared 64 KiB blocks, which go in place under shared block locks: each writer owns some 4 KiB
     * slots of every hot block and all of them write the last slot of each, while snapshots are taken beside them
     * (after each, the first write to a block copies it under the exclusive lock). Every slot of the volume and of
     * every snapshot must hold one complete stamp written there, the owned slots each writer's last, and the shared
     * path must have run.
     */
    @Test
    void smallWritesIntoOneBlockGoTogetherAndStayWhole() throws Exception {
        int slot = 4096;
        int slots = BLOCK / slot;
        int blocks = 4;
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        List<Long> snapshots = new CopyOnWriteArrayList<>();
        Map<Integer, Set<Integer>> history = new ConcurrentHashMap<>();    // slot index -> stamps written there
        int[] last = new int[blocks * slots];
        // Snapshots taken so far; a write that read n here before it began came after the n-th snapshot, which must
        // not show it (a shared block written in place would).
        java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
        Map<Integer, Integer> takenBefore = new ConcurrentHashMap<>();   // stamp -> snapshots taken before its write
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 4000L * BLOCK, 8L << 20),
                PoolOptions.DEFAULT)) {
            ThinDevice vol = pool.createThin(1);
            ByteBuffer init = ByteBuffer.allocate(slot);
            for (int s = 0; s < blocks * slots; s++) {
                fill(init, 1);
                vol.write((long) s * slot, init);
                history.computeIfAbsent(s, k -> ConcurrentHashMap.newKeySet()).add(1);
                last[s] = 1;
            }
            long sharedBefore = pool.sharedBlockLocksTaken();
            ExecutorService ex = Executors.newFixedThreadPool(WRITERS + 1);
            AtomicBoolean done = new AtomicBoolean();
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < WRITERS; t++) {
                int thread = t;
                writers.add(ex.submit(() -> {
                    Random rnd = new Random(100 + thread);
                    ByteBuffer buf = ByteBuffer.allocate(slot);
                    for (int i = 1; i <= 4000 || (snapshots.size() < 2 && i < 400_000); i++) {
                        int block = rnd.nextInt(blocks);
                        boolean common = rnd.nextInt(4) == 0;
                        int s = block * slots + (common ? slots - 1 : thread + WRITERS * rnd.nextInt((slots - 1) / WRITERS));
                        int stamp = (thread + 2) << 20 | i;
                        takenBefore.put(stamp, taken.get());
                        history.get(s).add(stamp);
                        fill(buf, stamp);
                        vol.write((long) s * slot, buf);
                        if (!common) {
                            last[s] = stamp;
                        }
                    }
                    return null;
                }));
            }
            Future<?> snapper = ex.submit(() -> {
                long id = 10;
                while (!done.get() && snapshots.size() < 12) {
                    pool.createSnapshot(id, 1);
                    snapshots.add(id++);
                    taken.incrementAndGet();
                    pool.commit();
                    Thread.sleep(3);
                }
                return null;
            });
            for (Future<?> f : writers) {
                f.get(120, TimeUnit.SECONDS);
            }
            done.set(true);
            snapper.get(60, TimeUnit.SECONDS);
            ex.shutdown();
            assertTrue(pool.sharedBlockLocksTaken() - sharedBefore > 1000,
                    "the 4 KiB writes went through the shared path: " + (pool.sharedBlockLocksTaken() - sharedBefore));
            ByteBuffer buf = ByteBuffer.allocate(slot);
            for (long dev : concat(1L, snapshots)) {
                for (int s = 0; s < blocks * slots; s++) {
                    buf.clear();
                    pool.device(dev).read((long) s * slot, buf);
                    int stamp = stampOf(buf, "device " + dev + " slot " + s);
                    assertTrue(history.get(s).contains(stamp),
                            "device " + dev + " slot " + s + " holds stamp " + stamp + " never written there");
                    int ordinal = dev == 1 ? Integer.MAX_VALUE : snapshots.indexOf(dev) + 1;
                    assertTrue(takenBefore.getOrDefault(stamp, 0) < ordinal, "snapshot " + dev + " slot " + s
                            + " shows stamp " + stamp + ", written after the snapshot was taken");
                    if (dev == 1 && s % slots != slots - 1) {
                        assertEquals(last[s], stamp, "slot " + s + " ends with its writer's last stamp");
                    }
                }
            }
            assertTrue(snapshots.size() >= 2, "snapshots were taken while writers ran");
        }
        PoolRandomTest.thinCheck(meta, "after concurrent small writes");
    }

    private static List<Long> concat(long first, List<Long> rest) {
        List<Long> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }

    private static void fill(ByteBuffer buf, int stamp) {
        buf.clear();
        while (buf.hasRemaining()) {
            buf.putInt(stamp);
        }
        buf.flip();
    }

    /** The block's stamp; fails if the block mixes versions (a torn or misplaced write). */
    private static int stampOf(ByteBuffer buf, String where) {
        int s = buf.getInt(0);
        for (int i = 0; i < buf.capacity(); i += 4) {
            if (buf.getInt(i) != s) {
                throw new AssertionError(where + " mixes stamps " + s + " and " + buf.getInt(i) + " at byte " + i);
            }
        }
        return s;
    }
}
