package org.thinfs.core.diff;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Imports stay thin, against a model: random "streams" of data records (whole zero blocks, blocks equal to what the
 * volume holds, new bytes, partial blocks) over volumes with and without snapshots underneath. After each: the
 * volume reads the model's bytes, no mapped block of it reads all zeros, a block whose bytes were resent unchanged
 * is still the snapshot's data block (shared, not copied), and every snapshot still reads what it did. Iterations:
 * property {@code thinfs.test.importSteps} (default 40).
 */
class ImportWritesTest {
    private static final int BLOCK = 64 * 1024;
    private static final int BLOCKS = 48;
    private static final long SIZE = (long) BLOCKS * BLOCK;

    @TempDir
    Path dir;

    @Test
    void randomImportsMatchTheModelProvisionNoZerosAndKeepSharing() throws Exception {
        long seed = Long.getLong("thinfs.test.seed", System.nanoTime());
        int steps = Integer.getInteger("thinfs.test.importSteps", 40);
        Random rnd = new Random(seed);
        try (ThinPool pool = DiffRoundTripTest.newPool(dir, "p")) {
            ThinDevice vol = pool.createThin(1);
            byte[] model = new byte[(int) SIZE];
            java.util.Map<Long, byte[]> snapshots = new java.util.HashMap<>();
            long nextSnap = 10;
            // Blocks last written in part: zeros written as data there may leave a mapped block of zeros.
            boolean[] partial = new boolean[BLOCKS];
            for (int step = 0; step < steps; step++) {
                String where = "seed " + seed + " step " + step;
                if (rnd.nextInt(3) == 0) {
                    pool.createSnapshot(nextSnap, 1);
                    snapshots.put(nextSnap++, model.clone());
                }
                long[] before = new long[BLOCKS];
                for (int b = 0; b < BLOCKS; b++) {
                    before[b] = vol.mappedDataBlock(b);
                }
                boolean[] resent = new boolean[BLOCKS];
                // One record: a run of blocks, each zeros, unchanged, or new bytes; sometimes unaligned ends.
                int first = rnd.nextInt(BLOCKS);
                int count = 1 + rnd.nextInt(Math.min(8, BLOCKS - first));
                byte[] rec = new byte[count * BLOCK];
                for (int i = 0; i < count; i++) {
                    int kind = rnd.nextInt(3);
                    int b = first + i;
                    if (kind == 1) {
                        System.arraycopy(model, b * BLOCK, rec, i * BLOCK, BLOCK);
                        resent[b] = true;
                    } else if (kind == 2) {
                        byte[] x = new byte[BLOCK];
                        rnd.nextBytes(x);
                        System.arraycopy(x, 0, rec, i * BLOCK, BLOCK);
                    }
                }
                int head = rnd.nextInt(4) == 0 ? rnd.nextInt(BLOCK) : 0;
                int tail = rnd.nextInt(4) == 0 ? rnd.nextInt(BLOCK) : 0;
                if (head + tail >= rec.length) {
                    head = 0;
                    tail = 0;
                }
                long off = (long) first * BLOCK + head;
                int len = rec.length - head - tail;
                for (int i = 0; i < count; i++) {
                    partial[first + i] = false;
                }
                if (head > 0) {
                    resent[first] = false;                     // partial blocks are written as they come
                    partial[first] = true;
                }
                if (tail > 0) {
                    resent[first + count - 1] = false;
                    partial[first + count - 1] = true;
                }
                new ImportWrites(vol, BLOCK).write(off, ByteBuffer.wrap(rec, head, len));
                System.arraycopy(rec, head, model, (int) off, len);

                ByteBuffer got = ByteBuffer.allocate((int) SIZE);
                vol.read(0, got);
                assertArrayEquals(model, got.array(), where + ": the volume's bytes");
                for (int b = 0; b < BLOCKS; b++) {
                    long d = vol.mappedDataBlock(b);
                    if (d >= 0) {
                        byte[] blk = Arrays.copyOfRange(model, b * BLOCK, (b + 1) * BLOCK);
                        assertTrue(!Arrays.equals(blk, new byte[BLOCK]) || partial[b],
                                where + ": block " + b + " is mapped and all zeros");
                    }
                    boolean zeros = Arrays.equals(Arrays.copyOfRange(model, b * BLOCK, (b + 1) * BLOCK), new byte[BLOCK]);
                    if (resent[b] && before[b] >= 0 && !zeros) {
                        assertEquals(before[b], d, where + ": block " + b + " was resent unchanged and rewritten");
                    }
                }
                for (var e : snapshots.entrySet()) {
                    ByteBuffer s = ByteBuffer.allocate((int) SIZE);
                    pool.device(e.getKey()).read(0, s);
                    assertArrayEquals(e.getValue(), s.array(), where + ": snapshot " + e.getKey() + " changed");
                }
            }
        }
    }
}
