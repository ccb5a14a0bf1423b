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
import org.thinfs.core.pool.ZeroWrites;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * What the zero check (ZeroWrites: one vectorized mismatch per block) costs a 1 MiB write into provisioned blocks,
 * against the same write with the check off (KEEP): data, where the check stops at the first byte, and zeros, where
 * it scans all 1 MiB and then writes anyway (the worst case: zeros over mapped blocks). The last row is what the
 * check buys: zeros into unmapped blocks, which SKIP never writes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class ZeroWriteBenchmark {
    private static final long SPAN = 256L << 20;
    private static final int MIB = 1 << 20;
    private Path dir;
    private ThinPool pool;
    private ThinDevice mapped;
    private ThinDevice empty;
    private final ByteBuffer data = ByteBuffer.allocateDirect(MIB);
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(MIB);
    private long next;

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("zero-write");
        Path meta = dir.resolve("meta");
        Files.createFile(meta);
        Files.createFile(dir.resolve("data"));
        pool = ThinPool.create(meta, dir.resolve("data"), new PoolConfig(64 * 1024, 2 * SPAN, 64L << 20),
                PoolOptions.DEFAULT);
        byte[] b = new byte[MIB];
        new Random(1).nextBytes(b);
        data.put(b).flip();
        mapped = pool.createThin(1);
        empty = pool.createThin(2);
        for (long off = 0; off < SPAN; off += MIB) {
            mapped.write(off, data.clear(), ZeroWrites.KEEP);
        }
        pool.commit();
    }

    private long nextOffset() {
        next = (next + MIB) % SPAN;
        return next;
    }

    @Benchmark
    public int dataCheckOff() {
        return mapped.write(nextOffset(), data.clear(), ZeroWrites.KEEP);
    }

    @Benchmark
    public int dataChecked() {
        return mapped.write(nextOffset(), data.clear(), ZeroWrites.SKIP);
    }

    @Benchmark
    public int zerosOverDataCheckOff() {
        return mapped.write(nextOffset(), zeros.clear(), ZeroWrites.KEEP);
    }

    @Benchmark
    public int zerosOverDataChecked() {
        return mapped.write(nextOffset(), zeros.clear(), ZeroWrites.SKIP);
    }

    @Benchmark
    public int zerosIntoHolesSkipped() {
        return empty.write(nextOffset(), zeros.clear(), ZeroWrites.SKIP);
    }

    @TearDown
    public void tearDown() throws IOException {
        pool.close();
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
