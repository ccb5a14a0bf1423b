package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SmokeTest {
    Path dir = Path.of("/tmp/smoke");

    @Test
    void writeCommitCheck() throws Exception {
        Files.createDirectories(dir); Files.deleteIfExists(dir.resolve("meta")); Files.deleteIfExists(dir.resolve("data"));
        Path meta = dir.resolve("meta");
        Path data = dir.resolve("data");
        Files.createFile(data);
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(65536, 64L << 20, 4L << 20),
                PoolOptions.DEFAULT)) {
            ThinDevice d = pool.createThin(1);
            ByteBuffer b = ByteBuffer.allocate(200000);
            for (int i = 0; i < b.capacity(); i++) {
                b.put(i, (byte) i);
            }
            d.write(12345, b);
            pool.createSnapshot(2, 1);
            d.write(0, ByteBuffer.allocate(100));
            pool.commit();
            ByteBuffer r = ByteBuffer.allocate(200000);
            pool.device(2).read(12345, r);
            assertEquals(b.rewind(), r.rewind());
        }
        Process p = new ProcessBuilder("thin_check", meta.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        p = new ProcessBuilder("thin_dump", meta.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
    }
}
