package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.io.FileBlockDevice;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fresh blocks provisioned on punched holes ({@link KnownZeroBlocks}): a partial write into one writes only its own
 * bytes, and a block reused after a delete, or after a crash left a stale write in it, reads zeros wherever the new
 * write did not reach. (PowerCutTest runs its power cuts with this on as well.)
 */
class ZeroHolesTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    /** Punching as fallocate does it, on the store underneath: the range reads as zeros afterwards. */
    private static DataHolePuncher zeroing(DataStore store) {
        return (offset, length) -> store.writeZeros(offset, length);
    }

    private ThinPool create(InstrumentedDataStore store, PoolOptions options, long blocks) throws Exception {
        Path meta = dir.resolve("meta");
        Files.deleteIfExists(meta);
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.setLength(1L << 20);
        }
        return ThinPool.create(FileBlockDevice.open(meta, true), store, null,
                new PoolConfig(BLOCK, blocks * BLOCK, 1L << 20), options);
    }

    @Test
    void aPartialWriteIntoAFreshBlockWritesOnlyItsBytes() throws Exception {
        for (boolean zeroHoles : new boolean[]{false, true}) {
            Path dataPath = dir.resolve("data-" + zeroHoles);
            InstrumentedDataStore store = new InstrumentedDataStore(new DataFile(Files.exists(dataPath) ? dataPath : Files.createFile(dataPath), true));
            DataStore plain = store.inner;
            PoolOptions opts = zeroHoles ? PoolOptions.DEFAULT.withZeroHoles(zeroing(plain))
                    : PoolOptions.DEFAULT.withHolePuncher(zeroing(plain));
            try (ThinPool pool = create(store, opts, 64)) {
                ThinDevice d = pool.createThin(1);
                long before = store.bytesWritten.get();
                byte[] four = new byte[4096];
                Arrays.fill(four, (byte) 7);
                d.write(3 * BLOCK + 8192, ByteBuffer.wrap(four));
                long written = store.bytesWritten.get() - before;
                assertEquals(zeroHoles ? 4096 : BLOCK, written, "bytes written for a 4 KiB write into a fresh "
                        + "block, zeroHoles=" + zeroHoles);
                byte[] expect = new byte[BLOCK];
                System.arraycopy(four, 0, expect, 8192, 4096);
                assertArrayEquals(expect, read(d, 3L * BLOCK), "the block reads as its bytes and zeros");
                assertEquals(zeroHoles ? 63 : 0, pool.knownZeroBlocks());
            }
        }
    }

    @Test
    void aBlockReusedAfterADeleteReadsZerosWhereTheNewWriteDidNotReach() throws Exception {
        Path dataPath = dir.resolve("data");
        InstrumentedDataStore store = new InstrumentedDataStore(new DataFile(Files.exists(dataPath) ? dataPath : Files.createFile(dataPath), true));
        // a pool of 4 blocks: once full, a delete's blocks are the only ones to reuse
        try (ThinPool pool = create(store, PoolOptions.DEFAULT.withZeroHoles(zeroing(store.inner)), 4)) {
            ThinDevice old = pool.createThin(1);
            byte[] junk = new byte[4 * BLOCK];
            Arrays.fill(junk, (byte) 0xAA);
            old.write(0, ByteBuffer.wrap(junk));
            pool.commit();
            assertEquals(0, pool.knownZeroBlocks(), "every block is in use");
            pool.delete(1);
            pool.commit(); // frees, then punches after the commit: the four blocks are holes again
            assertEquals(4, pool.knownZeroBlocks());
            ThinDevice fresh = pool.createThin(2);
            for (int vb = 0; vb < 4; vb++) {
                fresh.write(vb * (long) BLOCK + 1000, ByteBuffer.wrap(new byte[]{1, 2, 3}));
            }
            for (int vb = 0; vb < 4; vb++) {
                byte[] expect = new byte[BLOCK];
                expect[1000] = 1;
                expect[1001] = 2;
                expect[1002] = 3;
                assertArrayEquals(expect, read(fresh, vb * (long) BLOCK), "reused block " + vb);
            }
        }
    }

    @Test
    void aBlockWithAStaleWriteFromBeforeACrashReadsZerosWhenReused() throws Exception {
        Path meta = dir.resolve("meta");
        Path dataPath = dir.resolve("data");
        InstrumentedDataStore store = new InstrumentedDataStore(new DataFile(Files.exists(dataPath) ? dataPath : Files.createFile(dataPath), true));
        ThinPool pool = create(store, PoolOptions.DEFAULT.withZeroHoles(zeroing(store.inner)), 4);
        pool.createThin(1);
        pool.commit();
        byte[] junk = new byte[4 * BLOCK];
        Arrays.fill(junk, (byte) 0xBB);
        pool.device(1).write(0, ByteBuffer.wrap(junk));
        pool.flushData(); // the bytes are on disk, the mapping never commits: the crash comes now
        store.close();
        // (the metadata device is dropped unclosed: nothing after the last commit reaches the metadata)

        DataFile again = new DataFile(Files.exists(dataPath) ? dataPath : Files.createFile(dataPath), true);
        try (ThinPool reopened = ThinPool.open(FileBlockDevice.open(meta, true), again, null,
                PoolOptions.DEFAULT.withZeroHoles(zeroing(again)))) {
            assertEquals(4, reopened.knownZeroBlocks(), "the free space was punched at open");
            ThinDevice d = reopened.device(1);
            for (int vb = 0; vb < 4; vb++) {
                d.write(vb * (long) BLOCK + 5, ByteBuffer.wrap(new byte[]{9}));
            }
            for (int vb = 0; vb < 4; vb++) {
                byte[] expect = new byte[BLOCK];
                expect[5] = 9;
                assertArrayEquals(expect, read(d, vb * (long) BLOCK), "block " + vb + " after the crash");
            }
        }
    }

    @Test
    void knownZeroBlocksMatchesASetOfBlocks() {
        for (int seed = 1; seed <= 20; seed++) {
            Random rnd = new Random(seed);
            KnownZeroBlocks z = new KnownZeroBlocks();
            TreeSet<Long> model = new TreeSet<>();
            for (int op = 0; op < 2000; op++) {
                String where = "seed " + seed + " op " + op;
                if (rnd.nextInt(3) == 0) {
                    long from = rnd.nextInt(500);
                    long to = from + rnd.nextInt(40);
                    z.add(from, to);
                    for (long b = from; b < to; b++) {
                        model.add(b);
                    }
                } else {
                    long b = rnd.nextInt(520);
                    assertEquals(model.remove(b), z.take(b), where + ": take " + b);
                }
                assertEquals(model.size(), z.blocks(), where + ": count");
            }
            for (long b = 0; b < 540; b++) {
                assertEquals(model.contains(b), z.take(b), "seed " + seed + " final block " + b);
            }
            assertTrue(z.runs() == 0 && z.blocks() == 0);
        }
    }

    private static byte[] read(ThinDevice d, long offset) {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        d.read(offset, b);
        return b.array();
    }
}
