package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.OutOfMetadataSpaceException;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Full data space and full metadata space: clear errors, nothing committed is lost. */
class SpaceExhaustionTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void fullDataSpaceFailsNewBlocksButOverwritesAndSnapshotsStillWork() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 10L * BLOCK, 1L << 20),
                PoolOptions.DEFAULT)) {
            ThinDevice a = pool.createThin(1);
            ByteBuffer block = ByteBuffer.allocate(BLOCK);
            for (int i = 0; i < 10; i++) {
                a.write((long) i * BLOCK, block.clear());
            }
            pool.commit();
            // A multi-block write that needs two new blocks fails whole: neither lands.
            assertThrows(OutOfDataSpaceException.class, () -> a.write(10L * BLOCK, ByteBuffer.allocate(2 * BLOCK)));
            assertEquals(10, a.mappedBlocks());
            // Overwriting exclusively owned blocks needs no new block.
            ByteBuffer ones = ByteBuffer.allocate(BLOCK);
            ones.put(0, (byte) 1);
            a.write(0, ones);
            // A snapshot needs no data block; writing to a shared block needs one, and fails cleanly.
            pool.createSnapshot(2, 1);
            assertThrows(OutOfDataSpaceException.class, () -> a.write(0, ByteBuffer.allocate(1)));
            ByteBuffer r = ByteBuffer.allocate(1);
            pool.device(2).read(0, r);
            assertEquals(1, r.get(0));
            assertFalse(pool.isReadOnly(), "a full data space is not a metadata failure");
            // As in the kernel, a mapping older than the device's last snapshot is copied on write even after
            // the snapshot is gone, so the write needs a free block: discarding one frees it after the commit.
            pool.delete(2);
            a.discard(9L * BLOCK, BLOCK);
            assertThrows(OutOfDataSpaceException.class, () -> a.write(0, ByteBuffer.allocate(1)),
                    "a block freed in this transaction is not reused before the commit");
            pool.commit();
            a.write(0, ByteBuffer.allocate(1));
            assertEquals(10, pool.usage().dataBlocksUsed() + 1);
        }
        PoolRandomTest.thinCheck(meta, "full data space");
    }

    @Test
    void fullMetadataSpaceSwitchesToReadOnlyAndKeepsTheLastCommit() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 100000L * BLOCK, 64 * 4096),
                PoolOptions.DEFAULT);
        pool.createThin(1);
        ByteBuffer small = ByteBuffer.allocate(512);
        pool.device(1).write(0, small);
        pool.commit();
        OutOfMetadataSpaceException full = null;
        try {
            for (long i = 1; i < 100000; i++) {
                // Scattered blocks make every mapping cost btree space.
                pool.device(1).write(i * 7 * BLOCK, small.clear());
            }
        } catch (OutOfMetadataSpaceException e) {
            full = e;
        }
        assertTrue(full != null, "64 metadata blocks cannot map 100000 blocks");
        assertTrue(full.getMessage().contains("resize --metadata"), full.getMessage());
        assertTrue(pool.isReadOnly());
        assertThrows(MetadataReadOnlyException.class, () -> pool.device(1).write(0, ByteBuffer.allocate(1)));
        // Rolled back to the last commit: exactly one mapping.
        assertEquals(1, pool.device(1).mappedBlocks());
        pool.close();
        PoolRandomTest.thinCheck(meta, "after metadata space ran out");
        try (ThinPool again = ThinPool.open(meta, data, PoolOptions.DEFAULT)) {
            assertEquals(1, again.device(1).mappedBlocks());
            again.resizeMetadata(1024);
            for (long i = 1; i < 2000; i++) {
                again.device(1).write(i * 7 * BLOCK, small.clear());
            }
        }
        PoolRandomTest.thinCheck(meta, "after growing the metadata");
    }
}
