package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The cost rule: a range operation costs what is mapped, never the virtual size. On a device of 8 EiB virtual
 * blocks with a few mapped at both ends, discarding the middle, discarding everything (a shrink) and deleting each
 * finish at once. The old discard locked every virtual block of the range and ran for hours; the generous bound
 * catches that without timing anything finer.
 */
class HugeVolumeTest {
    private static final int BLOCK = 64 * 1024;
    private static final long EIB8 = Long.MAX_VALUE - Long.MAX_VALUE % BLOCK;   // 8 EiB, block-aligned
    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void rangeOperationsOnAnEightExbibyteVolumeCostWhatIsMapped() throws Exception {
        Path data = Files.createFile(dir.resolve("data"));
        try (ThinPool pool = ThinPool.create(dir.resolve("metadata"), data, new PoolConfig(BLOCK, 64L * BLOCK,
                1L << 20), PoolOptions.DEFAULT)) {
            ThinDevice d = pool.createThin(1);
            ByteBuffer b = ByteBuffer.allocate(BLOCK);
            b.put(0, (byte) 7);
            for (int i = 0; i < 3; i++) {
                d.write((long) i * BLOCK, b.clear());
                d.write(EIB8 - (long) (i + 1) * BLOCK, b.clear());
            }
            assertEquals(6, d.mappedBlocks());
            assertTimeoutPreemptively(BOUND, () -> d.discard(BLOCK, EIB8 - 2L * BLOCK), "punch the middle");
            assertEquals(2, d.mappedBlocks(), "the first and the last block stay");
            ByteBuffer r = ByteBuffer.allocate(1);
            d.read(EIB8 - BLOCK, r);
            assertEquals(7, r.get(0));
            assertTimeoutPreemptively(BOUND, () -> d.discard(0, EIB8), "shrink to nothing");
            assertEquals(0, d.mappedBlocks());
            d.write(EIB8 - BLOCK, b.clear());
            pool.commit();
            assertTimeoutPreemptively(BOUND, () -> pool.delete(1), "delete");
            pool.commit();
        }
        PoolRandomTest.thinCheck(dir.resolve("metadata"), "after the huge volume");
    }
}
