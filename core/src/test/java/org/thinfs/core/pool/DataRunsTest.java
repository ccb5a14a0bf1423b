package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.io.FileBlockDevice;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A request moves each run of blocks that lie next to each other in the data file with one data-store call (a
 * 1 MiB request over 64 KiB blocks is one pread or pwrite, not sixteen), and still reads and writes the right bytes
 * when a copy-on-write or an unmapped block breaks the run.
 */
class DataRunsTest {
    private static final int BLOCK = 64 * 1024;
    private static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void contiguousBlocksMoveInOneCallAndBrokenRunsStayCorrect() throws Exception {
        Path meta = dir.resolve("meta");
        Path data = dir.resolve("data");
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.setLength(1L << 20);
        }
        new RandomAccessFile(data.toFile(), "rw").close();
        InstrumentedDataStore store = new InstrumentedDataStore(new DataFile(data, true));
        try (ThinPool pool = ThinPool.create(FileBlockDevice.open(meta, true), store, meta,
                new PoolConfig(BLOCK, 200L * BLOCK, 1L << 20), PoolOptions.DEFAULT)) {
            ThinDevice dev = pool.createThin(0);
            byte[] content = new byte[MIB];
            new Random(1).nextBytes(content);

            int w = store.writes.get();
            assertEquals(16, dev.write(0, ByteBuffer.wrap(content)));
            assertEquals(w + 1, store.writes.get(), "16 fresh blocks allocated in a row: one write");
            int r = store.reads.get();
            assertArrayEquals(content, read(dev, 0, MIB));
            assertEquals(r + 1, store.reads.get(), "one read for one run");

            // A snapshot, then a whole-block write into block 5 of the origin: it gets a new block elsewhere, so
            // the origin's 1 MiB is now three runs; the snapshot still reads the old bytes as one.
            pool.createSnapshot(1, 0);
            byte[] five = new byte[BLOCK];
            Arrays.fill(five, (byte) 5);
            dev.write(5L * BLOCK, ByteBuffer.wrap(five));
            byte[] expected = content.clone();
            System.arraycopy(five, 0, expected, 5 * BLOCK, BLOCK);
            r = store.reads.get();
            assertArrayEquals(expected, read(dev, 0, MIB));
            assertEquals(r + 3, store.reads.get(), "blocks 0-4, 5, 6-15");
            assertArrayEquals(content, read(pool.device(1), 0, MIB));

            // Mapped then unmapped: the unmapped half reads as zeros without touching the store.
            r = store.reads.get();
            byte[] two = read(dev, 0, 2 * MIB);
            assertEquals(r + 3, store.reads.get());
            assertArrayEquals(expected, Arrays.copyOf(two, MIB));
            assertArrayEquals(new byte[MIB], Arrays.copyOfRange(two, MIB, 2 * MIB));

            // A partial write over two fresh blocks: zeros around it, its bytes in one call.
            byte[] mid = new byte[BLOCK];
            Arrays.fill(mid, (byte) 7);
            long at = 40L * BLOCK + BLOCK / 2;
            w = store.writes.get();
            assertEquals(2, dev.write(at, ByteBuffer.wrap(mid)));
            assertEquals(w + 3, store.writes.get(), "zeros before, zeros after, then the bytes");
            byte[] around = read(dev, 40L * BLOCK, 2 * BLOCK);
            byte[] want = new byte[2 * BLOCK];
            System.arraycopy(mid, 0, want, BLOCK / 2, BLOCK);
            assertArrayEquals(want, around);
        }
    }

    private static byte[] read(ThinDevice dev, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        dev.read(offset, b);
        return b.array();
    }
}
