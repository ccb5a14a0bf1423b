package org.thinfs.core.diff;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;

import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Full then incremental replication of a volume into another pool, and damaged streams that change nothing. */
class DiffRoundTripTest {
    private static final int BLOCK = 64 * 1024;
    private static final long SIZE = 300L * BLOCK + 1000;

    @TempDir
    Path dir;

    private ThinPool newPool(String name) throws Exception {
        return newPool(dir, name);
    }

    /** A 1000-block pool of 64 KiB blocks in {@code dir/name}, for the diff tests. */
    static ThinPool newPool(Path dir, String name) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.createFile(d.resolve("data"));
        return ThinPool.create(d.resolve("metadata"), d.resolve("data"), new PoolConfig(BLOCK, 1000L * BLOCK, 4 << 20),
                PoolOptions.DEFAULT);
    }

    @Test
    void fullThenIncrementalReplicationReproducesTheVolume() throws Exception {
        Random rnd = new Random(5);
        try (ThinPool src = newPool("src"); ThinPool dst = newPool("dst")) {
            ThinDevice vol = src.createThin(1);
            scribble(vol, rnd, 60);
            src.createSnapshot(2, 1);            // the state already replicated
            Path full = dir.resolve("full.diff");
            try (OutputStream out = Files.newOutputStream(full)) {
                DiffExporter.export(src, -1, 2, SIZE, out);
            }
            ThinDevice replica = dst.createThin(7);
            DiffImporter.apply(full, replica);
            assertSame(src.device(2), replica);

            scribble(vol, rnd, 40);
            vol.discard(10L * BLOCK, 20L * BLOCK);
            Path inc = dir.resolve("inc.diff");
            DiffExporter.Stats stats;
            try (OutputStream out = Files.newOutputStream(inc)) {
                stats = DiffExporter.export(src, 2, 1, SIZE, out);
            }
            assertTrue(Files.size(inc) < Files.size(full) + 50L * BLOCK, "an incremental carries only changes");
            assertTrue(stats.zeroedBytes() > 0);
            DiffImporter.apply(inc, replica);
            assertSame(vol, replica);
        }
    }

    @Test
    void damagedStreamIsRefusedBeforeAnythingIsApplied() throws Exception {
        try (ThinPool src = newPool("src"); ThinPool dst = newPool("dst")) {
            ThinDevice vol = src.createThin(1);
            scribble(vol, new Random(1), 20);
            Path f = dir.resolve("x.diff");
            try (OutputStream out = Files.newOutputStream(f)) {
                DiffExporter.export(src, -1, 1, SIZE, out);
            }
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.seek(raf.length() / 2);
                int b = raf.read();
                raf.seek(raf.length() / 2);
                raf.write(b ^ 0x40);
            }
            ThinDevice replica = dst.createThin(1);
            assertThrows(ThinfsException.class, () -> DiffImporter.apply(f, replica));
            assertEquals(0, replica.mappedBlocks());
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(raf.length() - 40);
            }
            assertThrows(ThinfsException.class, () -> DiffImporter.apply(f, replica));
            assertEquals(0, replica.mappedBlocks());
        }
    }

    private static void scribble(ThinDevice d, Random rnd, int writes) {
        for (int i = 0; i < writes; i++) {
            byte[] b = new byte[1 + rnd.nextInt(2 * BLOCK)];
            rnd.nextBytes(b);
            d.write(rnd.nextLong(SIZE - b.length), ByteBuffer.wrap(b));
        }
    }

    private static void assertSame(ThinDevice a, ThinDevice b) {
        ByteBuffer x = ByteBuffer.allocate(BLOCK);
        ByteBuffer y = ByteBuffer.allocate(BLOCK);
        for (long off = 0; off < SIZE; off += BLOCK) {
            int n = (int) Math.min(BLOCK, SIZE - off);
            a.read(off, x.clear().limit(n));
            b.read(off, y.clear().limit(n));
            assertArrayEquals(x.array(), y.array(), "byte range at " + off);
        }
    }
}
