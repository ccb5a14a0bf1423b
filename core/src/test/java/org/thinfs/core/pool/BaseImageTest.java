package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.diff.DiffExporter;
import org.thinfs.core.diff.DiffImporter;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Volumes over a read-only base image (dm-thin's external origin) against a byte model that reads the image: seeded
 * random reads, partial and whole-block writes (zeros too, under every zero-write setting), discards in both modes,
 * zero-outs, preallocation, shrinks, copy_file_range, copies by read and write, snapshots, clones, rollbacks and
 * reopenings, beside a volume without one; thin_check every 50 operations; the image is never written. Seed and
 * operation index are in every failure message ({@code -Dthinfs.base.seed=N -Dthinfs.base.ops=M}).
 */
class BaseImageTest {
    private static final int BLOCK = 64 * 1024;
    private static final int SIZE = 40 * BLOCK;
    /** Not a whole number of blocks, and shorter than the volumes: the last partial block and the tail read zeros. */
    private static final int BASE_SIZE = 30 * BLOCK + 777;
    private static final int DEVICES = 6;   // 1, 2: over the image (discards read it again; discards zero), 3: plain

    @TempDir
    Path dir;

    /** What the catalog keeps in the daemon: which devices have a base, how much of it each shows, which mode. */
    private final Map<Long, long[]> views = new HashMap<>();

    @Test
    void volumesOverABaseImageMatchAModelThatReadsTheImage() throws Exception {
        long seed = Long.getLong("thinfs.base.seed", 7);
        int ops = Integer.getInteger("thinfs.base.ops", 400);
        Random rnd = new Random(seed);
        byte[] image = new byte[BASE_SIZE];
        rnd.nextBytes(image);
        for (int i = 0; i < image.length; i += 3 * BLOCK) {
            Arrays.fill(image, i, Math.min(image.length, i + BLOCK), (byte) 0);  // zero blocks in the image too
        }
        Path imagePath = Files.write(dir.resolve("base.img"), image);
        Path meta = dir.resolve("metadata");
        byte[][] model = new byte[DEVICES + 4][];
        long[] limit = new long[DEVICES + 4];
        ThinPool pool = ThinPool.create(meta, Files.createFile(dir.resolve("data")),
                new PoolConfig(BLOCK, 2000L * BLOCK, 8L << 20), PoolOptions.DEFAULT);
        BaseImage base = BaseImage.open(imagePath);
        try {
            pool.setCopySharing(true);
            for (int id = 1; id <= 3; id++) {
                pool.createThin(id);
                model[id] = new byte[SIZE];
                if (id < 3) {
                    views.put((long) id, new long[]{BASE_SIZE, id == 2 ? 1 : 0});
                    System.arraycopy(image, 0, model[id], 0, BASE_SIZE);
                    limit[id] = BASE_SIZE;
                }
            }
            attach(pool, base);
            for (int op = 0; op < ops; op++) {
                String where = "seed " + seed + " op " + op;
                int a = pick(rnd, model);
                int b = pick(rnd, model);
                ThinDevice da = pool.device(a);
                int off = rnd.nextInt(3) > 0 ? rnd.nextInt(BASE_SIZE) : rnd.nextInt(SIZE - 1);  // mostly the image
                int len = 1 + rnd.nextInt(Math.min(SIZE - off, 3 * BLOCK + 100));
                int kind = rnd.nextInt(14);
                pool.setZeroWrites(ZeroWrites.values()[rnd.nextInt(3)]);
                if (kind < 4) {                                        // a write: random bytes, or zeros
                    byte[] bytes = new byte[len];
                    if (kind > 1) {
                        rnd.nextBytes(bytes);
                    }
                    da.write(off, ByteBuffer.wrap(bytes));
                    System.arraycopy(bytes, 0, model[a], off, len);
                } else if (kind == 4) {                                // discard: the image again, or zeros
                    da.discard(off, len);
                    long[] v = views.get((long) a);
                    for (int i = off; i < off + len; i++) {
                        model[a][i] = v == null || v[1] == 1 || i >= limit[a] ? 0 : image[i];
                    }
                } else if (kind == 5) {                                // zero-out (ZERO_RANGE, WRITE_ZEROES)
                    da.zeroOut(off, len);
                    Arrays.fill(model[a], off, off + len, (byte) 0);
                } else if (kind == 6) {                                // preallocation changes no byte read
                    da.provision(off, len);
                } else if (kind == 7 && a != b) {                      // copy_file_range
                    int to = rnd.nextInt(SIZE - len + 1);
                    pool.copyRange(da, off, pool.device(b), to, len);
                    System.arraycopy(model[a], off, model[b], to, len);
                } else if (kind == 8 && a != b) {                      // a copy by read and write, block aligned
                    int from = BLOCK * rnd.nextInt(SIZE / BLOCK - 3);
                    int to = BLOCK * rnd.nextInt(SIZE / BLOCK - 3);
                    byte[] bytes = read(da, from, 3 * BLOCK);
                    pool.device(b).write(to, ByteBuffer.wrap(bytes));
                    System.arraycopy(bytes, 0, model[b], to, bytes.length);
                } else if (kind == 9 && a <= 3) {                      // a snapshot, written later: a clone
                    int id = DEVICES + 1 + rnd.nextInt(3);
                    if (model[id] != null) {
                        pool.delete(id);
                    }
                    pool.createSnapshot(id, a);
                    model[id] = model[a].clone();
                    limit[id] = limit[a];
                    copyView(a, id);
                } else if (kind == 10 && model[DEVICES + 1] != null && a <= 3) {   // rollback to a snapshot
                    int snap = DEVICES + 1;
                    pool.rollback(a, snap);
                    model[a] = model[snap].clone();
                    limit[a] = limit[snap];
                    copyView(snap, a);
                } else if (kind == 11) {                               // a shrink: the image's tail is gone
                    long keep = rnd.nextInt(SIZE);
                    pool.bases().limit(a, keep);
                    if (views.containsKey((long) a)) {
                        views.get((long) a)[0] = Math.min(views.get((long) a)[0], keep);
                    }
                    da.discard(keep, SIZE - keep);
                    limit[a] = Math.min(limit[a], keep);
                    Arrays.fill(model[a], (int) keep, SIZE, (byte) 0);
                } else if (kind == 12) {                               // reopen: the catalog attaches again
                    pool.commit();
                    pool.close();
                    pool = ThinPool.open(meta, dir.resolve("data"), PoolOptions.DEFAULT);
                    pool.setCopySharing(true);
                    attach(pool, base);
                } else if (kind == 13) {                               // seek: the image's blocks are data
                    checkSeek(pool.device(a), limit[a], views.containsKey((long) a), model[a], where);
                }
                byte[] got = read(pool.device(a), off, len);
                assertArrayEquals(Arrays.copyOfRange(model[a], off, off + len), got, where + ": device " + a
                        + " [" + off + ", +" + len + ")");
                if (op % 50 == 49) {
                    for (int id = 1; id < model.length; id++) {
                        if (model[id] != null) {
                            assertArrayEquals(model[id], read(pool.device(id), 0, SIZE), where + ": device " + id);
                        }
                    }
                    pool.commit();
                    PoolRandomTest.thinCheck(meta, where);
                }
            }
            for (int id = 1; id <= 3; id++) {                          // a full export carries the image's bytes
                Path stream = dir.resolve("full-" + id);
                try (OutputStream out = Files.newOutputStream(stream)) {
                    DiffExporter.export(pool, -1, id, SIZE, out);
                }
                pool.createThin(20 + id);
                DiffImporter.apply(stream, pool.device(20 + id));
                assertArrayEquals(model[id], read(pool.device(20 + id), 0, SIZE), "seed " + seed
                        + ": a full export of device " + id + " imported into a plain volume");
            }
            pool.commit();
        } finally {
            pool.close();
            base.close();
        }
        PoolRandomTest.thinCheck(meta, "seed " + seed + " at the end");
        assertArrayEquals(image, Files.readAllBytes(imagePath), "the base image was written");
    }

    @Test
    void zerosWrittenOverTheImageReadZerosUnderEveryZeroSetting() throws Exception {
        byte[] image = new byte[4 * BLOCK];
        Arrays.fill(image, (byte) 0x5a);
        Path imagePath = Files.write(dir.resolve("ones.img"), image);
        try (ThinPool pool = ThinPool.create(dir.resolve("metadata"), Files.createFile(dir.resolve("data")),
                new PoolConfig(BLOCK, 100L * BLOCK, 4L << 20), PoolOptions.DEFAULT);
             BaseImage base = BaseImage.open(imagePath)) {
            for (ZeroWrites z : ZeroWrites.values()) {
                pool.setZeroWrites(z);
                long id = 1 + z.ordinal();
                ThinDevice d = pool.createThin(id);
                pool.bases().attach(id, new DeviceBase(base, image.length, false));
                d.write(100, ByteBuffer.allocate(BLOCK));              // partial over two unmapped blocks
                d.write(2 * BLOCK, ByteBuffer.allocate(BLOCK));        // one whole unmapped block
                byte[] expect = image.clone();
                Arrays.fill(expect, 100, 100 + BLOCK, (byte) 0);
                Arrays.fill(expect, 2 * BLOCK, 3 * BLOCK, (byte) 0);
                assertArrayEquals(expect, read(d, 0, image.length), "zeroes=" + z.wire());
                d.write(2 * BLOCK, ByteBuffer.allocate(BLOCK));        // whole zeros over the mapped zero block
                assertArrayEquals(expect, read(d, 0, image.length), "zeroes=" + z.wire() + ", again");
            }
        }
    }

    /** SEEK_DATA/SEEK_HOLE: every block the image shows through is data; a hole is an unmapped block past it. */
    private static void checkSeek(ThinDevice d, long limit, boolean overImage, byte[] model, String where) {
        long covered = overImage ? (limit + BLOCK - 1) / BLOCK : 0;
        int blocks = SIZE / BLOCK;
        for (int blk = 0; blk < blocks; blk++) {
            long data = d.nextData(blk, blocks);
            long hole = d.nextHole(blk, blocks);
            if (blk < covered) {
                assertEquals(blk, data, where + ": block " + blk + " shows the image: data");
                assertTrue(hole < 0 || hole >= covered, where + ": a hole at " + hole + " inside the image");
            }
            if (hole == blk) {
                byte[] zeros = new byte[BLOCK];
                assertArrayEquals(zeros, Arrays.copyOfRange(model, blk * BLOCK, (blk + 1) * BLOCK),
                        where + ": hole at block " + blk + " must read zeros");
            }
        }
    }

    private void copyView(int from, int to) {
        long[] v = views.get((long) from);
        if (v == null) {
            views.remove((long) to);
        } else {
            views.put((long) to, v.clone());
        }
    }

    private void attach(ThinPool pool, BaseImage base) {
        views.forEach((id, v) -> pool.bases().attach(id, new DeviceBase(base, v[0], v[1] == 1)));
    }

    /** A writable device: 1–3, or a clone made by a snapshot (7–9 are written too: a clone is a snapshot). */
    private static int pick(Random rnd, byte[][] model) {
        while (true) {
            int id = rnd.nextInt(model.length);
            if (id > 0 && model[id] != null) {
                return id;
            }
        }
    }

    private static byte[] read(ThinDevice d, long off, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        d.read(off, b);
        return b.array();
    }
}
