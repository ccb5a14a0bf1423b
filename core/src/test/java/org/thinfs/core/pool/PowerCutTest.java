package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.io.CrashingBlockDevice;
import org.thinfs.core.io.FileBlockDevice;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Power fails under the whole pool: the metadata device loses, tears and reorders its unflushed writes
 * ({@link CrashingBlockDevice} POWER_CUT) and at the same instant the data device loses or tears its own
 * ({@link VolatileDataStore}). Reopening must show exactly the last committed state, data included: every byte a
 * commit (fsync) covered reads back, and no device shows data it never had. The real thin_check must pass.
 */
class PowerCutTest {
    private static final int BLOCK = 64 * 1024;
    private static final long VOLUME = 40L * BLOCK;

    @TempDir
    Path dir;

    @Test
    void powerCutsAtRandomMomentsKeepTheLastCommitWithItsData() throws Exception {
        int cuts = 0;
        long checked = 0;
        for (int it = 0; it < 40; it++) {
            Random rnd = new Random(1000 + it);
            Path meta = dir.resolve("meta");
            Path data = dir.resolve("data");
            Files.deleteIfExists(meta);
            Files.deleteIfExists(data);
            Files.createFile(data);
            try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
                f.setLength(1L << 20);
            }
            long crashAt = 30 + rnd.nextInt(250);
            CrashingBlockDevice metaDev = new CrashingBlockDevice(FileBlockDevice.open(meta, true), crashAt,
                    CrashingBlockDevice.Mode.POWER_CUT, it);
            VolatileDataStore store = new VolatileDataStore(new DataFile(data, true));
            // Odd iterations provision fresh blocks on punched holes (KnownZeroBlocks); a punch is a write of
            // zeros through the volatile cache, so a power cut may lose it like any unflushed write.
            boolean zeroHoles = it % 2 == 1;
            PoolOptions options = zeroHoles ? PoolOptions.DEFAULT.withZeroHoles(store::writeZeros)
                    : PoolOptions.DEFAULT;
            // Every third iteration, every device reads a base image (an external origin) where it is unmapped: its
            // copy-ups (the rest of a partially written block, from the image) follow the same rules as any write.
            byte[] image = null;
            BaseImage base = null;
            if (it % 3 == 2) {
                image = new byte[(int) VOLUME - BLOCK / 2];
                rnd.nextBytes(image);
                base = BaseImage.open(Files.write(dir.resolve("base.img"), image));
            }
            List<PoolModel> committed = new ArrayList<>();
            PoolModel model = new PoolModel(BLOCK, image);
            // Blocks written since the last commit: an unflushed in-place write to an exclusively owned block may
            // land whole, torn or not at all, as on any disk; every other block must read exactly as committed.
            java.util.Set<String> touched = new java.util.HashSet<>();
            try {
                ThinPool pool = ThinPool.create(metaDev, store, null, new PoolConfig(BLOCK, 400L * BLOCK, 1L << 20),
                        options);
                committed.add(model.copy());
                long next = 1;
                for (int op = 0; op < 400; op++) {
                    List<Long> ids = new ArrayList<>(model.devices.keySet());
                    int what = rnd.nextInt(100);
                    if (ids.isEmpty() || what < 5) {
                        pool.createThin(next);
                        if (base != null) {
                            pool.bases().attach(next, new DeviceBase(base, image.length, false));
                        }
                        model.create(next++);
                    } else if (what < 9 && ids.size() < 6) {
                        long origin = ids.get(rnd.nextInt(ids.size()));
                        pool.createSnapshot(next, origin);
                        model.snapshot(next++, origin);
                    } else if (what < 11 && ids.size() > 1) {
                        long id = ids.get(rnd.nextInt(ids.size()));
                        pool.delete(id);
                        model.delete(id);
                    } else if (what < 80) {
                        long id = ids.get(rnd.nextInt(ids.size()));
                        byte[] b = new byte[1 + rnd.nextInt(2 * BLOCK)];
                        rnd.nextBytes(b);
                        long off = rnd.nextLong(VOLUME - b.length);
                        try {
                            for (long vb = off / BLOCK; vb <= (off + b.length - 1) / BLOCK; vb++) {
                                touched.add(id + ":" + vb);
                            }
                            pool.device(id).write(off, ByteBuffer.wrap(b));
                            model.write(id, off, b);
                        } catch (org.thinfs.core.OutOfDataSpaceException full) {
                            // nothing landed
                        }
                    } else if (what < 86) {
                        long id = ids.get(rnd.nextInt(ids.size()));
                        long off = rnd.nextLong(VOLUME / 2);
                        long len = BLOCK + rnd.nextLong(4L * BLOCK);
                        for (long vb = off / BLOCK; vb <= (off + len - 1) / BLOCK; vb++) {
                            touched.add(id + ":" + vb);
                        }
                        pool.device(id).discard(off, len);
                        model.discard(id, off, len);
                    } else {
                        pool.commit();
                        committed.add(model.copy());
                        touched.clear();
                    }
                }
                pool.commit();
                committed.add(model.copy());
                metaDev.close();
                if (base != null) {
                    base.close();
                }
                continue; // the crash point was past this workload's writes
            } catch (CrashingBlockDevice.Crash crash) {
                store.powerCut(rnd);
                metaDev.close();
                store.close();
            }
            cuts++;
            // If the superblock of the commit in flight reached the disk, that commit is the state: everything it
            // covers was flushed before its superblock, so the model as it stood then is exact.
            boolean newCommit = metaDev.landedInCrash().contains(0L);
            PoolModel expect = newCommit ? model : committed.get(committed.size() - 1);
            String where = "iteration " + it + ", power cut at metadata write " + crashAt
                    + (newCommit ? " (the commit in flight landed)" : "");
            try (ThinPool again = ThinPool.open(meta, data, PoolOptions.DEFAULT.withReadOnly(true))) {
                assertEquals(expect.devices.keySet(), again.deviceIds(), where);
                for (long id : again.deviceIds()) {
                    if (base != null) {
                        again.bases().attach(id, new DeviceBase(base, image.length, false));
                    }
                }
                for (Map.Entry<Long, Map<Long, byte[]>> e : expect.devices.entrySet()) {
                    ByteBuffer got = ByteBuffer.allocate(BLOCK);
                    for (long vb = 0; vb < VOLUME / BLOCK; vb++) {
                        if (!newCommit && touched.contains(e.getKey() + ":" + vb)) {
                            continue;
                        }
                        again.device(e.getKey()).read(vb * BLOCK, got.clear());
                        assertArrayEquals(expect.read(e.getKey(), vb * BLOCK, BLOCK), got.array(),
                                where + ": device " + e.getKey() + " block " + vb + " differs from the commit");
                        checked++;
                    }
                }
            }
            if (base != null) {
                base.close();
                assertArrayEquals(image, Files.readAllBytes(dir.resolve("base.img")), where + ": the image changed");
            }
            PoolRandomTest.thinCheck(meta, where);
            if (zeroHoles) {
                fillFreeBlocksAndCheckZeros(meta, data, where);
            }
        }
        assertTrue(cuts > 20, "power cuts simulated: " + cuts);
        assertTrue(checked > 1000, "blocks compared with their committed content: " + checked);
    }

    /**
     * After the cut, the free blocks may hold writes that never committed. Reopened with zeroHoles, a new device
     * takes every free block with a 3-byte write: each must read zeros everywhere else.
     */
    private static void fillFreeBlocksAndCheckZeros(Path meta, Path data, String where) throws Exception {
        DataFile df = new DataFile(data, true);
        try (ThinPool pool = ThinPool.open(FileBlockDevice.open(meta, true), df, null,
                PoolOptions.DEFAULT.withZeroHoles(df::writeZeros))) {
            long id = pool.deviceIds().isEmpty() ? 1 : pool.deviceIds().last() + 1;
            ThinDevice d = pool.createThin(id);
            long free = pool.usage().dataBlocks() - pool.usage().dataBlocksUsed();
            byte[] three = {5, 6, 7};
            for (long vb = 0; vb < free; vb++) {
                d.write(vb * BLOCK + 100, ByteBuffer.wrap(three));
            }
            byte[] expect = new byte[BLOCK];
            System.arraycopy(three, 0, expect, 100, 3);
            ByteBuffer got = ByteBuffer.allocate(BLOCK);
            for (long vb = 0; vb < free; vb++) {
                d.read(vb * BLOCK, got.clear());
                assertArrayEquals(expect, got.array(), where + ": a free block reused after the cut, virtual block "
                        + vb + ", shows bytes it was never given");
            }
        }
    }
}
