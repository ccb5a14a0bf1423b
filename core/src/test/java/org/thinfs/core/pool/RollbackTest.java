package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.NoSuchDeviceException;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Rollback in place against a byte model: a device rolled back to its snapshot reads the snapshot's bytes through the
 * handle it had before, keeps its id, gives back the blocks only it had written since, copies on write afterwards
 * (the snapshot stays as it was), and all of it survives a reopen with thin_check clean.
 */
class RollbackTest {
    private static final int BLOCK = 64 * 1024;
    private static final int SIZE = 32 * BLOCK;

    @TempDir
    Path dir;

    @Test
    void aRolledBackDeviceReadsItsSnapshotThroughTheSameHandle() throws Exception {
        Random rnd = new Random(8);
        Path meta = dir.resolve("metadata");
        Path data = Files.createFile(dir.resolve("data"));
        byte[] then = new byte[SIZE];
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 200L * BLOCK, 4L << 20),
                PoolOptions.DEFAULT)) {
            ThinDevice vol = pool.createThin(1);
            rnd.nextBytes(then);
            java.util.Arrays.fill(then, 20 * BLOCK, SIZE, (byte) 0);         // blocks 20.. are holes then
            vol.write(0, ByteBuffer.wrap(then, 0, 20 * BLOCK));
            pool.createSnapshot(2, 1);
            long usedAtSnapshot = pool.usage().dataBlocksUsed();
            byte[] later = new byte[SIZE];
            rnd.nextBytes(later);
            vol.write(0, ByteBuffer.wrap(later));                             // overwrites and new blocks
            assertEquals(usedAtSnapshot + 32, pool.usage().dataBlocksUsed());

            pool.rollback(1, 2);
            assertArrayEquals(then, read(vol), "the old handle after the rollback");
            assertEquals(20, vol.mappedBlocks());
            pool.commit();
            assertEquals(usedAtSnapshot, pool.usage().dataBlocksUsed(), "blocks written since were freed");

            vol.write(3, ByteBuffer.wrap(new byte[]{9}));                    // copy on write: the snapshot keeps 3
            assertEquals(then[3], read(pool.device(2))[3]);
            then[3] = 9;
            assertArrayEquals(then, read(vol));
            assertThrows(NoSuchDeviceException.class, () -> pool.rollback(1, 7));
            assertArrayEquals(then, read(vol), "a refused rollback changes nothing");
            pool.commit();
        }
        PoolRandomTest.thinCheck(meta, "after rollback");
        try (ThinPool pool = ThinPool.open(meta, data, PoolOptions.DEFAULT)) {
            assertArrayEquals(then, read(pool.device(1)), "after reopening");
        }
    }

    private static byte[] read(ThinDevice d) {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        d.read(0, b);
        return b.array();
    }
}
