package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.io.FaultyBlockDevice;
import org.thinfs.core.io.FileBlockDevice;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An Error (out of memory, stack overflow) inside a metadata change is treated as an I/O error is: the pool rolls
 * back to the last commit and goes read-only, so a half-made change is never committed. Real files; the metadata
 * device ({@link FaultyBlockDevice}) throws an OutOfMemoryError on the read we choose.
 */
class ErrorInMetadataChangeTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void anErrorInsideAChangeRollsBackAndGoesReadOnly() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        byte[] committed = new byte[BLOCK];
        Arrays.fill(committed, (byte) 7);
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 64L * BLOCK, 4 << 20),
                PoolOptions.DEFAULT)) {
            pool.createThin(1).write(0, ByteBuffer.wrap(committed));
        }
        FaultyBlockDevice dev = new FaultyBlockDevice(FileBlockDevice.open(meta, true));
        try (ThinPool pool = ThinPool.open(dev, new DataFile(data, true), meta, PoolOptions.DEFAULT)) {
            ThinDevice d = pool.device(1);
            // The mapping tree's leaf is not cached yet: planning this write reads it.
            dev.errorOnNextRead(new OutOfMemoryError("injected while reading a metadata block"));
            assertThrows(OutOfMemoryError.class, () -> d.write(5L * BLOCK, ByteBuffer.wrap(new byte[]{1})));
            assertTrue(pool.isReadOnly(), "an Error inside a metadata change must switch the pool to read-only");
            assertThrows(MetadataReadOnlyException.class, () -> d.write(6L * BLOCK, ByteBuffer.wrap(new byte[]{1})));
            ByteBuffer back = ByteBuffer.allocate(BLOCK);
            d.read(0, back);
            assertArrayEquals(committed, back.array(), "the committed data still reads back");
        }
        try (ThinPool pool = ThinPool.open(meta, data, PoolOptions.DEFAULT)) {
            assertEquals(1, pool.device(1).mappedBlocks(), "nothing of the failed request was committed");
            PoolRandomTest.thinCheck(meta, "after an Error in a metadata change");
        }
    }
}
