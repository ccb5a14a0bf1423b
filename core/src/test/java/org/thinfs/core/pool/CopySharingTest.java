package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.tools.CheckReport;
import org.thinfs.core.tools.MetadataChecker;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Copies by read and write (as cp, dd, rsync and qemu-img do them) share blocks, exactly: a byte model of three
 * volumes under seeded random copies in every chunk size (whole blocks, and 32 KiB writes that fill a block in
 * steps, as rsync's), near-copies that differ in one byte, writes, discards and snapshots; aligned copies of what
 * was just read cost no data blocks; a writer racing the copier on the source never leaves the copy with bytes it did
 * not write. Seed and operation index are in every failure message.
 */
class CopySharingTest {
    private static final int BLOCK = 64 * 1024;
    private static final int SIZE = 48 * BLOCK;
    private static final int[] CHUNKS = {32 << 10, BLOCK, 128 << 10, 1 << 20, 3 * BLOCK + 512};

    @TempDir
    Path dir;

    private ThinPool create() throws Exception {
        ThinPool pool = ThinPool.create(dir.resolve("metadata"), Files.createFile(dir.resolve("data")),
                new PoolConfig(BLOCK, 600L * BLOCK, 4L << 20), PoolOptions.DEFAULT);
        pool.setCopySharing(true);
        pool.setZeroWrites(ZeroWrites.SKIP);              // as the daemons run: zeros are never a copy
        return pool;
    }

    @Test
    void copiesByReadAndWriteMatchAByteModelAndShare() throws Exception {
        long seed = Long.getLong("thinfs.copies.seed", 5);
        int ops = Integer.getInteger("thinfs.copies.ops", 300);
        Random rnd = new Random(seed);
        byte[][] model = new byte[4][SIZE];
        Path meta = dir.resolve("metadata");
        int sharedCopies = 0;
        try (ThinPool pool = create()) {
            for (int id = 1; id <= 3; id++) {
                pool.createThin(id);
            }
            for (int op = 0; op < ops; op++) {
                String where = "seed " + seed + " op " + op;
                int kind = rnd.nextInt(10);
                int a = 1 + rnd.nextInt(3);
                int b = 1 + rnd.nextInt(3);
                if (kind < 3) {                                        // a write of new bytes
                    int off = rnd.nextInt(SIZE - 1);
                    byte[] bytes = new byte[1 + rnd.nextInt(Math.min(SIZE - off, 3 * BLOCK))];
                    rnd.nextBytes(bytes);
                    pool.device(a).write(off, ByteBuffer.wrap(bytes));
                    System.arraycopy(bytes, 0, model[a], off, bytes.length);
                } else if (kind == 3) {                                // a discard
                    int off = rnd.nextInt(SIZE - 1);
                    int len = 1 + rnd.nextInt(Math.min(SIZE - off, 4 * BLOCK));
                    pool.device(a).discard(off, len);
                    Arrays.fill(model[a], off, off + len, (byte) 0);
                } else if (kind == 4) {                                // a snapshot underneath, kept a while
                    if (pool.deviceIds().contains(9L)) {
                        pool.delete(9);
                    }
                    pool.createSnapshot(9, a);
                } else if (kind == 5) {                                // a near-copy: one byte differs
                    int blk = rnd.nextInt(SIZE / BLOCK);
                    byte[] bytes = read(pool.device(a), blk * BLOCK, BLOCK);
                    bytes[1 + rnd.nextInt(BLOCK - 1)] ^= 1;          // inside or outside the key's slices
                    int to = BLOCK * rnd.nextInt(SIZE / BLOCK);
                    pool.device(b).write(to, ByteBuffer.wrap(bytes));
                    System.arraycopy(bytes, 0, model[b], to, BLOCK);
                } else {                                               // a copy as a tool makes it
                    boolean aligned = rnd.nextInt(4) > 0;
                    int from = aligned ? BLOCK * rnd.nextInt(40) : rnd.nextInt(SIZE - 1);
                    int to = aligned ? BLOCK * rnd.nextInt(40) : rnd.nextInt(SIZE - 1);
                    int len = 1 + rnd.nextInt(Math.min(SIZE - from, SIZE - to) - 1);
                    if (aligned) {
                        len = Math.max(BLOCK, len / BLOCK * BLOCK);
                    }
                    int chunk = CHUNKS[rnd.nextInt(CHUNKS.length)];
                    if (a == b && from < to + len && to < from + len) {
                        continue;
                    }
                    long usedBefore = pool.usage().dataBlocksUsed();
                    boolean sourceFull = a != b && pool.device(a).nextUnmapped(from / BLOCK, (from + len) / BLOCK) < 0
                            && noZeroBlock(model[a], from, len);
                    byte[] expect = Arrays.copyOfRange(model[a], from, from + len);
                    copyAsATool(pool.device(a), from, pool.device(b), to, len, chunk);
                    System.arraycopy(expect, 0, model[b], to, len);
                    if (aligned && sourceFull) {                       // (zeros copied over a mapping may be written)
                        assertTrue(pool.usage().dataBlocksUsed() <= usedBefore,
                                where + ": an aligned copy of " + len / BLOCK + " blocks in " + chunk
                                        + "-byte chunks cost data blocks");
                        sharedCopies++;
                    }
                }
                for (int id = 1; id <= 3; id++) {
                    assertArrayEquals(model[id], read(pool.device(id), 0, SIZE), where + ": device " + id);
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
        assertTrue(sharedCopies > 0, "seed " + seed + ": only " + sharedCopies + " copies were checked for sharing");
        PoolRandomTest.thinCheck(meta, "seed " + seed + " at the end");
        try (ThinPool pool = ThinPool.open(meta, dir.resolve("data"), PoolOptions.DEFAULT)) {
            for (int id = 1; id <= 3; id++) {
                assertArrayEquals(model[id], read(pool.device(id), 0, SIZE), "device " + id + " after reopening");
            }
        }
    }

    /**
     * Reads as the page cache does (readahead windows of 128 KiB to 1 MiB, whatever the tool asks) and writes in the
     * tool's chunks.
     */
    private static void copyAsATool(ThinDevice a, int from, ThinDevice b, int to, int len, int chunk) {
        int window = Math.max(chunk, 128 << 10);
        for (int done = 0; done < len; done += window) {
            byte[] bytes = read(a, from + done, Math.min(window, len - done));
            for (int w = 0; w < bytes.length; w += chunk) {
                b.write(to + done + w, ByteBuffer.wrap(bytes, w, Math.min(chunk, bytes.length - w)));
            }
        }
    }

    @Test
    void aCopyInAnyChunkSizeOfAFullVolumeCostsNoDataBlocks() throws Exception {
        Random rnd = new Random(11);
        try (ThinPool pool = create()) {
            ThinDevice src = pool.createThin(1);
            byte[] bytes = new byte[40 * BLOCK];
            rnd.nextBytes(bytes);
            src.write(0, ByteBuffer.wrap(bytes));
            long used = pool.usage().dataBlocksUsed();
            for (int i = 0; i < CHUNKS.length; i++) {
                ThinDevice dst = pool.createThin(2 + i);
                copyAsATool(src, 0, dst, 0, bytes.length, CHUNKS[i]);
                assertEquals(used, pool.usage().dataBlocksUsed(), CHUNKS[i] + "-byte writes: data blocks used");
                for (int k = 0; k < 40; k++) {
                    assertEquals(src.mappedDataBlock(k), dst.mappedDataBlock(k), CHUNKS[i] + ": block " + k);
                }
                assertArrayEquals(bytes, read(dst, 0, bytes.length), CHUNKS[i] + "-byte writes: the copy");
            }
            // The pool's time (24 bits in each mapping) advances once per new pair of devices, not once per share.
            assertTrue(pool.usage().time() <= CHUNKS.length, "time " + pool.usage().time() + " after "
                    + CHUNKS.length + " copies");
            dstIndependent(pool, src, bytes);
            pool.commit();
        }
        PoolRandomTest.thinCheck(dir.resolve("metadata"), "after the copies");
    }

    /** Writing the source after the copies leaves every copy as it was, and the other way round. */
    private static void dstIndependent(ThinPool pool, ThinDevice src, byte[] bytes) {
        src.write(5 * BLOCK + 3, ByteBuffer.wrap(new byte[]{1, 2, 3}));
        pool.device(2).write(7 * BLOCK, ByteBuffer.wrap(new byte[]{4, 5}));
        assertArrayEquals(bytes, read(pool.device(3), 0, bytes.length), "a copy after the source was written");
        assertEquals(bytes[7 * BLOCK], read(src, 7 * BLOCK, 1)[0], "the source after a copy was written");
    }

    /** Whether no whole block of [from, from + len) is all zeros (zeros over a shared mapping are written). */
    private static boolean noZeroBlock(byte[] bytes, int from, int len) {
        byte[] zero = new byte[BLOCK];
        for (int o = from; o + BLOCK <= from + len; o += BLOCK) {
            if (Arrays.equals(bytes, o, o + BLOCK, zero, 0, BLOCK)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aWriterRacingTheCopierNeverLeavesTheCopyWithOtherBytes() throws Exception {
        long seed = Long.getLong("thinfs.copies.seed", 5);
        int rounds = Integer.getInteger("thinfs.copies.ops", 300) * 10;
        try (ThinPool pool = create()) {
            ThinDevice src = pool.createThin(1);
            ThinDevice dst = pool.createThin(2);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                Random r = new Random(seed + 1);
                byte[] bytes = new byte[BLOCK];
                try {
                    while (!stop.get()) {
                        r.nextBytes(bytes);
                        src.write((long) BLOCK * r.nextInt(8), ByteBuffer.wrap(bytes));
                        if (r.nextInt(4) == 0) {
                            Thread.sleep(0, 200_000);
                        }
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            Random rnd = new Random(seed);
            byte[][] wrote = new byte[8][];
            int shared = 0;
            writer.start();
            try {
                for (int i = 0; i < rounds && failed.get() == null; i++) {
                    int k = rnd.nextInt(8);
                    byte[] bytes = read(src, (long) BLOCK * k, BLOCK);
                    dst.write((long) BLOCK * k, ByteBuffer.wrap(bytes));
                    wrote[k] = bytes;
                    assertArrayEquals(bytes, read(dst, (long) BLOCK * k, BLOCK), "seed " + seed + " round " + i
                            + ": block " + k + " of the copy reads other bytes than were written to it");
                    shared += dst.mappedDataBlock(k) == src.mappedDataBlock(k) ? 1 : 0;
                }
            } finally {
                stop.set(true);
                writer.join();
            }
            assertNull(failed.get(), "the writer failed");
            src.write(0, ByteBuffer.wrap(new byte[8 * BLOCK]));       // the source moves on; the copy must not
            for (int k = 0; k < 8; k++) {
                if (wrote[k] != null) {
                    assertArrayEquals(wrote[k], read(dst, (long) BLOCK * k, BLOCK), "seed " + seed + ": block " + k);
                }
            }
            assertTrue(shared > 0, "seed " + seed + ": no copy was ever shared, so nothing was tested");
            pool.commit();
        }
        PoolRandomTest.thinCheck(dir.resolve("metadata"), "seed " + seed + " after the race");
    }

    private static byte[] read(ThinDevice d, long off, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        d.read(off, b);
        return b.array();
    }
}

