package org.thinfs.core.diff;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.PoolRandomTest;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.core.pool.ZeroWrites;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * What a bookmark sends, against a byte model: a receiver made equal to a snapshot, the snapshot then deleted, the
 * origin changed by seeded random writes, discards, copies that share blocks (which restamp mappings), more
 * snapshots and copy_file_range; the stream of everything written since the snapshot's time (plus every unmapped
 * range as zeros) turns the receiver into the origin byte for byte, in the thinfs format and in rbd's. Seed and
 * operation index are in every failure message.
 */
class WrittenSinceTest {
    private static final int BLOCK = 64 * 1024;
    private static final int SIZE = 40 * BLOCK;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"thinfs", "rbd"})
    void theDiffSinceABookmarkMakesTheReceiverEqualToTheOrigin(String format) throws Exception {
        int seeds = Integer.getInteger("thinfs.bookmark.seeds", 6);
        for (long seed = 1; seed <= seeds; seed++) {
            runSeed(seed, format);
        }
    }

    private void runSeed(long seed, String format) throws Exception {
        Random rnd = new Random(seed);
        Path d = Files.createDirectories(dir.resolve(format + seed));
        Path meta = d.resolve("metadata");
        byte[] model = new byte[SIZE];
        try (ThinPool pool = ThinPool.create(meta, Files.createFile(d.resolve("data")),
                new PoolConfig(BLOCK, 400L * BLOCK, 4L << 20), PoolOptions.DEFAULT)) {
            pool.setCopySharing(true);
            pool.setZeroWrites(ZeroWrites.SKIP);
            ThinDevice origin = pool.createThin(1);
            ThinDevice other = pool.createThin(4);
            byte[] otherBytes = new byte[SIZE];
            rnd.nextBytes(otherBytes);
            other.write(0, ByteBuffer.wrap(otherBytes));
            for (int i = 0; i < 20; i++) {
                write(rnd, origin, model);
            }
            pool.createSnapshot(2, 1);
            int since = pool.maps().details(2).creationTime();
            ThinDevice receiver = pool.createThin(3);
            apply(pool, BlockDelta.between(pool, -1, 2), 2, receiver, format, d.resolve("full"));
            pool.delete(2);                                          // the bookmark outlives its snapshot
            for (int op = 0; op < 40; op++) {
                String where = format + " seed " + seed + " op " + op;
                int kind = rnd.nextInt(6);
                if (kind < 2) {
                    write(rnd, origin, model);
                } else if (kind == 2) {
                    int off = rnd.nextInt(SIZE - 1);
                    int len = 1 + rnd.nextInt(Math.min(SIZE - off, 5 * BLOCK));
                    origin.discard(off, len);
                    Arrays.fill(model, off, off + len, (byte) 0);
                } else if (kind == 3) {                              // a copy by read and write: shared blocks
                    int blk = rnd.nextInt(SIZE / BLOCK - 2);
                    ByteBuffer b = ByteBuffer.allocate(2 * BLOCK);
                    other.read((long) blk * BLOCK, b);
                    origin.write((long) blk * BLOCK, ByteBuffer.wrap(b.array()));
                    System.arraycopy(b.array(), 0, model, blk * BLOCK, 2 * BLOCK);
                } else if (kind == 4) {                              // a later snapshot, kept or not
                    long id = 10 + op;
                    pool.createSnapshot(id, 1);
                    if (rnd.nextBoolean()) {
                        pool.delete(id);
                    }
                } else {                                             // copy_file_range from the other volume
                    int blk = rnd.nextInt(SIZE / BLOCK - 3);
                    pool.copyRange(other, (long) blk * BLOCK, origin, (long) blk * BLOCK, 3L * BLOCK);
                    System.arraycopy(otherBytes, blk * BLOCK, model, blk * BLOCK, 3 * BLOCK);
                }
                if (op % 10 == 9) {
                    ThinDevice copy = pool.createThin(100 + op);
                    apply(pool, BlockDelta.between(pool, -1, 3), 3, copy, format, d.resolve("copy" + op));
                    apply(pool, BlockDelta.writtenSince(pool, 1, since), 1, copy, format, d.resolve("inc" + op));
                    assertArrayEquals(model, read(copy), where + ": the receiver after the bookmark's diff");
                    pool.delete(100 + op);
                }
            }
            pool.commit();
        }
        PoolRandomTest.thinCheck(meta, format + " seed " + seed);
    }

    private static void apply(ThinPool pool, BlockDelta.Scan delta, long target, ThinDevice into, String format,
                              Path file) throws Exception {
        try (OutputStream out = Files.newOutputStream(file)) {
            if (format.equals("rbd")) {
                RbdDiff.export(pool, delta, target, SIZE, null, null, out);
            } else {
                DiffExporter.export(pool, delta, target, SIZE, "", "", out);
            }
        }
        if (format.equals("rbd")) {
            RbdDiff.apply(file, into);
        } else {
            DiffImporter.apply(file, into);
        }
    }

    private static void write(Random rnd, ThinDevice dev, byte[] model) {
        int off = rnd.nextInt(SIZE - 1);
        byte[] b = new byte[1 + rnd.nextInt(Math.min(SIZE - off, 3 * BLOCK))];
        rnd.nextBytes(b);
        dev.write(off, ByteBuffer.wrap(b));
        System.arraycopy(b, 0, model, off, b.length);
    }

    private static byte[] read(ThinDevice d) {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        d.read(0, b);
        return b.array();
    }
}
