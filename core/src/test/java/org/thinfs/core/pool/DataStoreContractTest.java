package org.thinfs.core.pool;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link DataStore} contract, written once and run on the data file and on the wrappers the crash and error
 * tests use (in their pass-through state): byte-exact reads of unaligned writes, zeros past what was written and
 * past the end, writeZeros and copy, a size that only grows. Random operations against a byte array; the seed and
 * operation index are in every failure.
 */
class DataStoreContractTest {
    private static final int SIZE = 1 << 20;
    private static final int OPS = 2000;

    @TempDir
    static Path dir;

    interface Factory {
        DataStore make(Path file) throws IOException;
    }

    record Subject(String name, Factory factory) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Subject> stores() {
        return Stream.of(
                new Subject("data file", f -> new DataFile(f, true)),
                new Subject("data file in 64 KiB pieces (a write-behind follows)", f -> {
                    DataFile d = new DataFile(f, true);
                    d.writeSignal().trackChunks();
                    return d;
                }),
                new Subject("volatile cache", f -> new VolatileDataStore(new DataFile(f, true))),
                new Subject("instrumented", f -> new InstrumentedDataStore(new DataFile(f, true))));
    }

    private static Path fresh() {
        return dir.resolve("data-" + System.nanoTime());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void sizeOnlyGrowsAndThePastTheEndReadsAsZeros(Subject s) throws IOException {
        Path f = fresh();
        java.nio.file.Files.createFile(f);
        try (DataStore d = s.factory().make(f)) {
            d.ensureSize(SIZE);
            assertTrue(d.size() >= SIZE, s.name() + ": size " + d.size());
            d.ensureSize(SIZE / 2);
            assertTrue(d.size() >= SIZE, s.name() + ": ensureSize shrank the store to " + d.size());
            ByteBuffer b = ByteBuffer.allocate(8192);
            b.put(0, new byte[8192]).array()[5] = 1;
            d.read(SIZE - 4096, b);
            assertEquals(0, b.remaining());
            assertArrayEquals(new byte[8192], b.array(), s.name() + ": read across the end");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void readsMatchAModelOfWritesZerosAndCopies(Subject s) throws IOException {
        for (long seed = 1; seed <= 3; seed++) {
            Path f = fresh();
            java.nio.file.Files.createFile(f);
            try (DataStore d = s.factory().make(f)) {
                d.ensureSize(SIZE);
                exercise(d, s.name(), seed);
            }
        }
    }

    /**
     * O_DIRECT on a block device (a loop device over a file): the same model, every request unaligned in its own
     * way; then the device's backing file holds exactly the model (the bytes went through, not to a cache).
     */
    @org.junit.jupiter.api.Test
    void directIoOnABlockDeviceMatchesTheModel() throws Exception {
        Path f = fresh();
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(SIZE);
        }
        Process p = new ProcessBuilder("losetup", "-f", "--show", f.toString()).redirectErrorStream(true).start();
        String loop = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), "losetup: " + loop);
        try {
            byte[] model;
            try (DataStore d = DirectDataFile.open(Path.of(loop), true)) {
                assertEquals(SIZE, d.size());
                model = exercise(d, "direct I/O on " + loop, 4);
            }
            assertArrayEquals(model, java.nio.file.Files.readAllBytes(f), "the loop device's file after direct I/O");
            IOException file = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> DirectDataFile.open(f, true));
            assertTrue(file.getMessage().contains("not one"), file.getMessage());
        } finally {
            new ProcessBuilder("losetup", "-d", loop).start().waitFor();
        }
    }

    /** Random writes, zero fills, copies, flushes and reads of {@code d} against a byte array; returns the model. */
    private static byte[] exercise(DataStore d, String name, long seed) {
        Random r = new Random(seed);
        byte[] model = new byte[SIZE];
        for (int op = 0; op < OPS; op++) {
            String where = name + ", seed " + seed + ", op " + op;
            // Small, up to a block, and past DataFile's 64 KiB pwrite pieces.
            int len = 1 + r.nextInt(new int[] {512, 65536, 262144}[r.nextInt(3)]);
            int pos = r.nextInt(SIZE - len);
            switch (r.nextInt(8)) {
                case 0, 1, 2 -> {
                    byte[] bytes = new byte[len];
                    r.nextBytes(bytes);
                    ByteBuffer src = r.nextBoolean() ? ByteBuffer.wrap(bytes)
                            : ByteBuffer.allocateDirect(len).put(bytes).flip();
                    d.write(pos, src);
                    assertEquals(0, src.remaining(), where + ": write left bytes");
                    assertEquals(len, src.limit(), where + ": write moved the buffer's limit");
                    System.arraycopy(bytes, 0, model, pos, len);
                }
                case 3 -> {
                    d.writeZeros(pos, len);
                    java.util.Arrays.fill(model, pos, pos + len, (byte) 0);
                }
                case 4 -> {
                    int to = r.nextInt(SIZE - len);
                    if (Math.abs(to - pos) < len) {
                        continue; // the pool copies between distinct blocks only
                    }
                    d.copy(pos, to, len);
                    System.arraycopy(model, pos, model, to, len);
                }
                case 5 -> d.flush();
                default -> {
                    ByteBuffer dst = r.nextBoolean() ? ByteBuffer.allocate(len) : ByteBuffer.allocateDirect(len);
                    d.read(pos, dst);
                    assertEquals(0, dst.remaining(), where + ": short read");
                    byte[] got = new byte[len];
                    dst.flip().get(got);
                    assertArrayEquals(java.util.Arrays.copyOfRange(model, pos, pos + len), got,
                            where + ": read " + len + " at " + pos);
                }
            }
        }
        d.flush();
        ByteBuffer all = ByteBuffer.allocate(SIZE);
        d.read(0, all);
        assertArrayEquals(model, all.array(), name + ", seed " + seed + ": whole store at the end");
        return model;
    }
}
