package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.tools.CheckReport;
import org.thinfs.core.tools.MetadataChecker;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * copyRange against a byte model: seeded random copies between volumes, from a snapshot and within one volume,
 * aligned and not, mixed with writes to both sides (which must copy on write) and discards; after every commit
 * thin_check and thinfs check (which counts every data reference) are clean, and a copy of shared blocks costs no
 * data space. Seed and operation index are in every failure message.
 */
class CopyRangeTest {
    private static final int BLOCK = 64 * 1024;
    private static final int SIZE = 48 * BLOCK;

    @TempDir
    Path dir;

    @Test
    void randomCopiesMatchAByteModel() throws Exception {
        long seed = Long.getLong("thinfs.copy.seed", 3);
        Random rnd = new Random(seed);
        Path meta = dir.resolve("metadata");
        Path data = Files.createFile(dir.resolve("data"));
        byte[][] model = new byte[4][SIZE];
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 400L * BLOCK, 4L << 20),
                PoolOptions.DEFAULT)) {
            for (int id = 1; id <= 3; id++) {
                pool.createThin(id);
            }
            for (int op = 0; op < 300; op++) {
                String where = "seed " + seed + " op " + op;
                int kind = rnd.nextInt(10);
                int a = 1 + rnd.nextInt(3);
                int b = 1 + rnd.nextInt(3);
                if (kind < 3) {                                        // a write
                    int off = rnd.nextInt(SIZE - 1);
                    byte[] bytes = new byte[1 + rnd.nextInt(Math.min(SIZE - off, 3 * BLOCK))];
                    rnd.nextBytes(bytes);
                    pool.device(a).write(off, ByteBuffer.wrap(bytes));
                    System.arraycopy(bytes, 0, model[a], off, bytes.length);
                } else if (kind == 3) {                                // a discard
                    int off = rnd.nextInt(SIZE - 1);
                    int len = 1 + rnd.nextInt(Math.min(SIZE - off, 4 * BLOCK));
                    pool.device(a).discard(off, len);
                    java.util.Arrays.fill(model[a], off, off + len, (byte) 0);
                } else if (kind == 4) {                                // snapshot, then copy back from it
                    if (pool.deviceIds().contains(9L)) {
                        pool.delete(9);
                    }
                    pool.createSnapshot(9, a);
                    byte[] snap = model[a].clone();
                    int p = rnd.nextInt(SIZE - 100);
                    pool.device(a).write(p, ByteBuffer.wrap(new byte[]{7, 7, 7}));
                    System.arraycopy(new byte[]{7, 7, 7}, 0, model[a], p, 3);
                    int off = BLOCK * rnd.nextInt(40);
                    int len = rnd.nextInt(SIZE - off);
                    pool.copyRange(pool.device(9), off, pool.device(a), off, len);
                    System.arraycopy(snap, off, model[a], off, len);
                } else {                                               // copy between (or within) volumes
                    boolean aligned = rnd.nextBoolean();
                    int srcOff = aligned ? BLOCK * rnd.nextInt(44) : rnd.nextInt(SIZE - 1);
                    int dstOff = aligned ? BLOCK * rnd.nextInt(44) + (rnd.nextInt(4) == 0 ? 0 : srcOff % BLOCK)
                            : rnd.nextInt(SIZE - 1);
                    int len = rnd.nextInt(Math.min(SIZE - srcOff, SIZE - dstOff));
                    if (a == b && srcOff < dstOff + len && dstOff < srcOff + len) {
                        continue;                                      // overlapping: EINVAL in the VFS
                    }
                    long usedBefore = pool.usage().dataBlocksUsed();
                    pool.copyRange(pool.device(a), srcOff, pool.device(b), dstOff, len);
                    System.arraycopy(model[a], srcOff, model[b], dstOff, len);
                    if (aligned && srcOff % BLOCK == 0 && dstOff % BLOCK == 0 && len % BLOCK == 0) {
                        assertTrue(pool.usage().dataBlocksUsed() <= usedBefore, where + ": sharing cost data space");
                    }
                }
                for (int id = 1; id <= 3; id++) {
                    assertArrayEquals(model[id], readAll(pool.device(id)), where + ": device " + id);
                }
                if (op % 50 == 49) {
                    pool.commit();
                    CheckReport r = MetadataChecker.check(meta);
                    assertTrue(r.isClean(), where + ": thinfs check: " + r);
                    PoolRandomTest.thinCheck(meta, where);
                }
            }
            pool.commit();
        }
        assertEquals(0, MetadataChecker.check(meta).errorCount());
        PoolRandomTest.thinCheck(meta, "at the end");
        try (ThinPool pool = ThinPool.open(meta, data, PoolOptions.DEFAULT)) {
            for (int id = 1; id <= 3; id++) {
                assertArrayEquals(model[id], readAll(pool.device(id)), "device " + id + " after reopening");
            }
        }
    }

    private static byte[] readAll(ThinDevice d) {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        d.read(0, b);
        return b.array();
    }
}
