package org.thinfs.fs.fuse;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.metrics.RequestStats;
import org.thinfs.fs.model.Handle;
import org.thinfs.fs.model.PoolFileSystem;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up's requests are real ones: what they write and punch is what the volume then holds, and its large
 * writes go the way a worker takes them by splice (into new blocks read and written, in place spliced).
 */
class WarmupRequestsTest {
    @TempDir
    Path dir;

    @Test
    void requestsLaidOutAsTheKernelDoesReachTheVolume() throws Exception {
        assertTrue(NativeBuffers.available(), "the tests run with --add-opens, as the jar does");
        long block = 65536;
        Path metadata = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        ThinPool.create(metadata, data, new PoolConfig(block, 64 * block, 4L << 20), PoolOptions.DEFAULT).close();
        int large = 512 << 10;
        try (PoolFileSystem fs = PoolFileSystem.open(ThinPool.open(metadata, data, PoolOptions.DEFAULT), dir)) {
            fs.createVolume("/v", 0600);
            fs.truncate("/v", 32 * block);
            Handle h = fs.open("/v", true);
            byte[] bytes = new byte[3 * (int) block];
            new Random(7).nextBytes(bytes);
            byte[] largeBytes = new byte[large];
            new Random(8).nextBytes(largeBytes);
            AtomicLong spliced = new AtomicLong();
            ThinFuse fuse = new ThinFuse(fs, 0, 0);
            fuse.setRequestStats(new RequestStats() {
                @Override
                public void done(String op, long moved, boolean failed) {
                }

                @Override
                public void spliced(long moved) {
                    spliced.addAndGet(moved);
                }
            });
            try (WarmupRequests requests = new WarmupRequests(fuse, dir, data)) {
                long fh = requests.fuse().adopt(h, "/v", 2);
                requests.write(fh, block, bytes, bytes.length, 0x1122334455667788L);
                requests.read(fh, block, bytes.length);
                requests.fallocate(fh, 0x03, 2 * block, block);        // PUNCH_HOLE | KEEP_SIZE
                requests.seek(fh, 0, 3);
                requests.splicedWrite(fh, 16 * block, largeBytes, large, 1);   // new blocks: read, then written
                assertEquals(0, spliced.get(), "a write into new blocks is not spliced");
                assertArrayEquals(stamped(largeBytes, 1), readBack(fs, h, 16 * block, large));
                requests.splicedWrite(fh, 16 * block, largeBytes, large, 2);   // mapped now: spliced in place
            }
            assertEquals(large, spliced.get(), "the second large write was spliced into the data file");
            assertArrayEquals(stamped(largeBytes, 2), readBack(fs, h, 16 * block, large));
            ByteBuffer back = ByteBuffer.allocate(bytes.length);
            fs.read(h, block, back);
            byte[] expected = bytes.clone();
            ByteBuffer.wrap(expected).order(java.nio.ByteOrder.nativeOrder()).putLong(0, 0x1122334455667788L);
            java.util.Arrays.fill(expected, (int) block, 2 * (int) block, (byte) 0);
            assertArrayEquals(expected, back.array());
            assertEquals(2 * block + large, fs.getattr(h).bytesUsed(), "the punched block is unmapped");
            fs.release(h);
        }
    }

    /** {@code bytes} with their first 8 replaced by {@code stamp}, as the warm-up's writes send them. */
    private static byte[] stamped(byte[] bytes, long stamp) {
        byte[] b = bytes.clone();
        ByteBuffer.wrap(b).order(java.nio.ByteOrder.nativeOrder()).putLong(0, stamp);
        return b;
    }

    private static byte[] readBack(PoolFileSystem fs, Handle h, long offset, int length) {
        ByteBuffer back = ByteBuffer.allocate(length);
        fs.read(h, offset, back);
        return back.array();
    }
}
