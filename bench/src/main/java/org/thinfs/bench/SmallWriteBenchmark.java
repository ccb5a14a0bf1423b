package org.thinfs.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * What a 4 KiB write to a provisioned block costs inside the engine (block lock, mapping lookup under the metadata
 * lock, the pwrite), against the bare pwrite of the same 4 KiB into a host file: the difference is the part of a
 * FUSE write that is thinfs's own, the rest of a small write's time is the FUSE round trip.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class SmallWriteBenchmark {
    private static final long SPAN = 256L << 20;
    private Path dir;
    private ThinPool pool;
    private ThinDevice volume;
    private FileChannel plain;
    private final ByteBuffer four = ByteBuffer.allocateDirect(4096);
    private long next;

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("small-write");
        Path meta = dir.resolve("meta");
        Files.createFile(meta);
        Files.createFile(dir.resolve("data"));
        pool = ThinPool.create(meta, dir.resolve("data"), new PoolConfig(64 * 1024, 2 * SPAN, 64L << 20),
                PoolOptions.DEFAULT);
        volume = pool.createThin(1);
        ByteBuffer mib = ByteBuffer.allocateDirect(1 << 20);
        for (long off = 0; off < SPAN; off += 1 << 20) {
            volume.write(off, mib.clear());
        }
        pool.commit();
        plain = FileChannel.open(dir.resolve("plain"), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ);
        for (long off = 0; off < SPAN; off += 1 << 20) {
            plain.write(mib.clear(), off);
        }
    }

    private long nextOffset() {
        next = (next + 4096 * 7919) % SPAN; // a stride that visits every 4 KiB slot, out of order
        return next;
    }

    @Benchmark
    public int thinfsWrite4k() {
        return volume.write(nextOffset(), four.clear());
    }

    /** The read side: a 4 KiB read of a mapped block (gate, one mapping lookup, the pread). */
    @Benchmark
    public ByteBuffer thinfsRead4k() {
        volume.read(nextOffset(), four.clear());
        return four;
    }

    @Benchmark
    public int pwrite4k() throws IOException {
        return plain.write(four.clear(), nextOffset());
    }

    @TearDown
    public void tearDown() throws IOException {
        pool.close();
        plain.close();
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
