package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.NoSuchDeviceException;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A handle kept across a delete never reaches the device that later gets the same id. */
class DeletedDeviceTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void anOldHandleFailsInsteadOfWritingIntoTheNewDeviceWithItsId() throws Exception {
        Files.createFile(dir.resolve("data"));
        try (ThinPool tp = ThinPool.create(dir.resolve("metadata"), dir.resolve("data"),
                new PoolConfig(BLOCK, 64L * BLOCK, 4L << 20), PoolOptions.DEFAULT)) {
            ThinDevice old = tp.createThin(7);
            old.write(0, ByteBuffer.allocate(BLOCK));
            tp.delete(7);
            ThinDevice fresh = tp.createThin(7);
            assertThrows(NoSuchDeviceException.class, () -> old.write(BLOCK, ByteBuffer.allocate(16)));
            assertThrows(NoSuchDeviceException.class, () -> old.read(0, ByteBuffer.allocate(16)));
            assertThrows(NoSuchDeviceException.class, () -> old.discard(0, BLOCK));
            assertThrows(NoSuchDeviceException.class, () -> old.nextMapped(0, 64));
            assertEquals(0, fresh.mappedBlocks(), "nothing of the old handle's reached the new device");
            fresh.write(0, ByteBuffer.allocate(8));
            assertEquals(1, fresh.mappedBlocks());
        }
    }
}
