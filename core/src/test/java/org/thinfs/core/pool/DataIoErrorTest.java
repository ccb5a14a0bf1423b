package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.StorageIOException;
import org.thinfs.core.io.FileBlockDevice;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * EIO from the data device: the failing write reports it and leaves nothing half done (its new blocks are given
 * back, no mapping points at them), reads report it, and once the device works again the pool carries on.
 */
class DataIoErrorTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void dataEioFailsTheRequestOnlyAndThePoolCarriesOn() throws Exception {
        Path meta = dir.resolve("meta");
        Path data = dir.resolve("data");
        Files.createFile(data);
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.setLength(1L << 20);
        }
        InstrumentedDataStore store = new InstrumentedDataStore(new DataFile(data, true));
        byte[] ones = new byte[BLOCK];
        java.util.Arrays.fill(ones, (byte) 1);
        try (ThinPool pool = ThinPool.create(FileBlockDevice.open(meta, true), store, meta,
                new PoolConfig(BLOCK, 100L * BLOCK, 1L << 20), PoolOptions.DEFAULT)) {
            ThinDevice d = pool.createThin(1);
            d.write(0, ByteBuffer.wrap(ones));
            pool.commit();
            long used = pool.usage().dataBlocksUsed();
            store.failWrites = true;
            assertThrows(StorageIOException.class, () -> d.write(5L * BLOCK, ByteBuffer.wrap(ones)));
            assertThrows(StorageIOException.class, () -> d.write(0, ByteBuffer.allocate(10)));
            assertEquals(used, pool.usage().dataBlocksUsed(), "the failed provisioning gave its block back");
            assertEquals(-1, d.mappedDataBlock(5));
            store.failWrites = false;
            store.failReads = true;
            assertThrows(StorageIOException.class, () -> d.read(0, ByteBuffer.allocate(BLOCK)));
            store.failReads = false;
            d.write(5L * BLOCK, ByteBuffer.wrap(ones));
            ByteBuffer back = ByteBuffer.allocate(BLOCK);
            d.read(5L * BLOCK, back);
            assertArrayEquals(ones, back.array());
        }
        PoolRandomTest.thinCheck(meta, "after data EIO");
    }

    @Test
    void metadataWriteFailureSwitchesThePoolToReadOnlyAndKeepsTheLastCommit() throws Exception {
        Path meta = dir.resolve("meta2");
        Path data = dir.resolve("data2");
        Files.createFile(data);
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.setLength(1L << 20);
        }
        org.thinfs.core.io.FaultyBlockDevice dev = new org.thinfs.core.io.FaultyBlockDevice(
                FileBlockDevice.open(meta, true));
        byte[] ones = new byte[BLOCK];
        java.util.Arrays.fill(ones, (byte) 1);
        ThinPool pool = ThinPool.create(dev, new DataFile(data, true), meta, new PoolConfig(BLOCK, 100L * BLOCK,
                1L << 20), PoolOptions.DEFAULT);
        pool.createThin(1).write(0, ByteBuffer.wrap(ones));
        pool.commit();
        pool.device(1).write(BLOCK, ByteBuffer.wrap(ones));
        dev.failWritesAfter(1);
        assertThrows(StorageIOException.class, pool::commit);
        assertEquals(true, pool.isReadOnly(), "a metadata write failure makes the pool read-only");
        assertThrows(org.thinfs.core.MetadataReadOnlyException.class,
                () -> pool.device(1).write(0, ByteBuffer.allocate(1)));
        dev.heal();
        pool.close();
        PoolRandomTest.thinCheck(meta, "after a failed commit");
        try (ThinPool again = ThinPool.open(meta, data, PoolOptions.DEFAULT)) {
            assertEquals(1, again.device(1).mappedBlocks(), "the last commit, nothing of the failed one");
            again.device(1).write(BLOCK, ByteBuffer.wrap(ones));
        }
    }
}
