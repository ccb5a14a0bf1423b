package org.thinfs.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.thinfs.core.thin.ThinMetadata;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/** The commit that follows {@code dirtyMappings} scattered provisioning writes on a 1 M-mapping device. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
public class CommitBenchmark {
    @Param({"1", "1000"})
    int dirtyMappings;

    private ThinMetadata md;
    private final SplittableRandom random = new SplittableRandom(3);
    private long[] keys;

    @Setup(Level.Trial)
    public void build() throws Exception {
        md = Pools.withMappings(1_000_000, 1_000_000);
        keys = new long[dirtyMappings];
    }

    @Setup(Level.Invocation)
    public void dirty() {
        for (int i = 0; i < dirtyMappings; i++) {
            keys[i] = 1_000_000 + random.nextLong(1L << 30);
            md.insert(1, keys[i], md.dataSpace().allocate());
        }
    }

    @TearDown(Level.Invocation)
    public void undo() {
        for (long k : keys) {
            md.remove(1, k);
        }
        md.commit();
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        md.close();
    }

    @Benchmark
    public void commit() {
        md.commit();
    }
}
