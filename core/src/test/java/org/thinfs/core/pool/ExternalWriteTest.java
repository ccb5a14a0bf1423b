package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes whose bytes move into the data file by themselves (a FUSE write's payload spliced from its pipe,
 * ThinDevice#writeInPlaceFrom): made only in place, into mapped blocks no snapshot shares, with every byte where a
 * write from memory would have put it; anything else is declined with nothing moved and nothing mapped.
 */
class ExternalWriteTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    /** The payload of one write, moved by positional writes on the data file as splice(2) would move it. */
    private static final class Payload implements ExternalBytes {
        final byte[] bytes;
        final FileChannel data;
        int moved;
        int calls;

        Payload(byte[] bytes, Path dataFile) throws IOException {
            this.bytes = bytes;
            this.data = FileChannel.open(dataFile, StandardOpenOption.WRITE);
        }

        @Override
        public void moveTo(long pos, int length) throws IOException {
            calls++;
            ByteBuffer b = ByteBuffer.wrap(bytes, moved, length);
            while (b.hasRemaining()) {
                pos += data.write(b, pos);
            }
            moved += length;
        }
    }

    private ThinPool create() throws IOException {
        Files.createFile(dir.resolve("data"));
        return ThinPool.create(dir.resolve("meta"), dir.resolve("data"), new PoolConfig(BLOCK, 64L * BLOCK, 4L << 20),
                PoolOptions.DEFAULT);
    }

    private static byte[] random(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static byte[] read(ThinDevice d, long offset, int n) {
        ByteBuffer b = ByteBuffer.allocate(n);
        d.read(offset, b);
        return b.array();
    }

    @Test
    void aWriteIntoMappedUnsharedBlocksMovesEveryByteInPlace() throws Exception {
        Random rnd = new Random(1);
        try (ThinPool pool = create()) {
            ThinDevice d = pool.createThin(1);
            byte[] model = random(rnd, 6 * BLOCK);
            d.write(0, ByteBuffer.wrap(model));
            long mapped = d.mappedBlocks();
            // Unaligned at both ends, over four blocks: the edges keep their other bytes.
            int at = BLOCK + 100;
            byte[] bytes = random(rnd, 3 * BLOCK + 5000);
            Payload p = new Payload(bytes, dir.resolve("data"));
            assertTrue(d.writeInPlaceFrom(at, bytes.length, p));
            assertEquals(bytes.length, p.moved, "every byte moved");
            assertEquals(1, p.calls, "blocks mapped next to each other move in one run");
            System.arraycopy(bytes, 0, model, at, bytes.length);
            assertArrayEquals(model, read(d, 0, model.length));
            assertEquals(mapped, d.mappedBlocks(), "nothing provisioned");
            pool.commit();
        }
    }

    @Test
    void aWriteTouchingAnUnmappedBlockIsDeclinedUntouched() throws Exception {
        try (ThinPool pool = create()) {
            ThinDevice d = pool.createThin(1);
            d.write(0, ByteBuffer.wrap(random(new Random(2), BLOCK)));
            Payload p = new Payload(random(new Random(3), 2 * BLOCK), dir.resolve("data"));
            assertFalse(d.writeInPlaceFrom(BLOCK / 2, 2 * BLOCK, p), "block 1 and 2 are unmapped: provisioning");
            assertEquals(0, p.calls);
            assertEquals(1, d.mappedBlocks(), "nothing allocated for the declined write");
            assertArrayEquals(new byte[BLOCK], read(d, BLOCK, BLOCK));
        }
    }

    @Test
    void aWriteIntoBlocksASnapshotSharesIsDeclinedAndTheSnapshotKeepsItsBytes() throws Exception {
        try (ThinPool pool = create()) {
            ThinDevice d = pool.createThin(1);
            byte[] before = random(new Random(4), 2 * BLOCK);
            d.write(0, ByteBuffer.wrap(before));
            ThinDevice snap = pool.createSnapshot(2, 1);
            Payload p = new Payload(random(new Random(5), 2 * BLOCK), dir.resolve("data"));
            assertFalse(d.writeInPlaceFrom(0, 2 * BLOCK, p), "shared since the snapshot: copy on write");
            assertEquals(0, p.calls);
            assertArrayEquals(before, read(snap, 0, before.length));
            assertArrayEquals(before, read(d, 0, before.length));
        }
    }

    @Test
    void aPoolThatUnmapsZerosNeedsTheBytesAndDeclines() throws Exception {
        try (ThinPool pool = create()) {
            ThinDevice d = pool.createThin(1);
            d.write(0, ByteBuffer.wrap(random(new Random(6), BLOCK)));
            pool.setZeroWrites(ZeroWrites.UNMAP);
            byte[] zeros = new byte[BLOCK];
            Payload p = new Payload(zeros, dir.resolve("data"));
            assertFalse(d.writeInPlaceFrom(0, BLOCK, p));
            assertEquals(0, p.calls);
            assertTrue(d.write(0, ByteBuffer.wrap(zeros)) > 0, "from memory, the zero block is unmapped");
            assertEquals(0, d.mappedBlocks());
            assertTrue(Arrays.equals(zeros, read(d, 0, BLOCK)));
        }
    }
}
