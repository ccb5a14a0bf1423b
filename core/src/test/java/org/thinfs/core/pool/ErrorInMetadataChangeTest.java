package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;

import java.io.IOException;
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
 * device throws an OutOfMemoryError on the read we choose.
 */
class ErrorInMetadataChangeTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    /** A metadata device that throws an Error on the next read once armed. */
    private static final class ErrorOnRead implements BlockDevice {
        final BlockDevice inner;
        volatile boolean armed;

        ErrorOnRead(BlockDevice inner) {
            this.inner = inner;
        }

        @Override
        public long nrBlocks() throws IOException {
            return inner.nrBlocks();
        }

        @Override
        public void read(long nr, ByteBuffer dst) throws IOException {
            if (armed) {
                armed = false;
                throw new OutOfMemoryError("injected while reading metadata block " + nr);
            }
            inner.read(nr, dst);
        }

        @Override
        public void write(long nr, ByteBuffer src) throws IOException {
            inner.write(nr, src);
        }

        @Override
        public void flush() throws IOException {
            inner.flush();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }

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
        ErrorOnRead dev = new ErrorOnRead(FileBlockDevice.open(meta, true));
        try (ThinPool pool = ThinPool.open(dev, new DataFile(data, true), meta, PoolOptions.DEFAULT)) {
            ThinDevice d = pool.device(1);
            dev.armed = true;   // the mapping tree's leaf is not cached yet: planning this write reads it
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
