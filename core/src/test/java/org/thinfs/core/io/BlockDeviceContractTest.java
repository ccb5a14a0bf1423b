package org.thinfs.core.io;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.format.Layout;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The {@link BlockDevice} contract, written once and run on every implementation: the production file device and
 * the test devices the crash and fault tests stand on (in their pass-through state), since a test device that
 * broke the contract would make those tests prove nothing. Random whole-block writes, reads and flushes against a
 * map of block → bytes; the seed and operation index are in every failure.
 */
class BlockDeviceContractTest {
    private static final int BLOCKS = 256;
    private static final int OPS = 3000;

    @TempDir
    static Path dir;

    interface Factory {
        BlockDevice make(Path dir) throws IOException;
    }

    record Subject(String name, Factory factory) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Subject> devices() {
        return Stream.of(
                new Subject("file", d -> {
                    Path p = d.resolve("dev-" + System.nanoTime());
                    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                        f.setLength((long) BLOCKS * Layout.BLOCK_SIZE);
                    }
                    return FileBlockDevice.open(p, true);
                }),
                new Subject("memory", d -> new MemoryBlockDevice(BLOCKS)),
                new Subject("crashing, never crashes", d -> new CrashingBlockDevice(new MemoryBlockDevice(BLOCKS),
                        Long.MAX_VALUE, CrashingBlockDevice.Mode.POWER_CUT, 1)),
                new Subject("faulty, no faults", d -> new FaultyBlockDevice(new MemoryBlockDevice(BLOCKS))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void unwrittenBlocksReadAsZerosAndTheSizeIsWhatWasMade(Subject s) throws IOException {
        try (BlockDevice dev = s.factory().make(dir)) {
            assertEquals(BLOCKS, dev.nrBlocks(), s.name());
            for (long nr : new long[]{0, 1, BLOCKS / 2, BLOCKS - 1}) {
                ByteBuffer b = ByteBuffer.allocate(Layout.BLOCK_SIZE);
                Arrays.fill(b.array(), (byte) 0x5A);
                dev.read(nr, b);
                assertEquals(0, b.remaining(), "a read fills the whole block");
                assertArrayEquals(new byte[Layout.BLOCK_SIZE], b.array(), s.name() + ": block " + nr);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void readsReturnTheLastWriteOfEachBlock(Subject s) throws IOException {
        for (long seed = 1; seed <= 3; seed++) {
            Random r = new Random(seed);
            Map<Long, byte[]> model = new HashMap<>();
            try (BlockDevice dev = s.factory().make(dir)) {
                for (int op = 0; op < OPS; op++) {
                    String where = s.name() + ", seed " + seed + ", op " + op;
                    long nr = r.nextInt(BLOCKS);
                    int kind = r.nextInt(10);
                    if (kind < 5) {
                        byte[] data = new byte[Layout.BLOCK_SIZE];
                        r.nextBytes(data);
                        // A direct buffer as the block manager uses, and a position that is not 0.
                        ByteBuffer src = ByteBuffer.allocateDirect(Layout.BLOCK_SIZE + 16);
                        src.position(16);
                        src.slice().put(data);
                        src.limit(16 + Layout.BLOCK_SIZE);
                        dev.write(nr, src);
                        assertEquals(0, src.remaining(), where + ": a write takes the whole block");
                        model.put(nr, data);
                    } else if (kind < 9) {
                        ByteBuffer dst = ByteBuffer.allocate(Layout.BLOCK_SIZE);
                        dev.read(nr, dst);
                        byte[] want = model.getOrDefault(nr, new byte[Layout.BLOCK_SIZE]);
                        assertArrayEquals(want, dst.array(), where + ": block " + nr);
                    } else {
                        dev.flush();
                    }
                }
                dev.flush();
                for (Map.Entry<Long, byte[]> e : model.entrySet()) {
                    ByteBuffer dst = ByteBuffer.allocate(Layout.BLOCK_SIZE);
                    dev.read(e.getKey(), dst);
                    assertArrayEquals(e.getValue(), dst.array(), s.name() + ", seed " + seed
                            + ", after the last flush: block " + e.getKey());
                }
            }
        }
    }
}
