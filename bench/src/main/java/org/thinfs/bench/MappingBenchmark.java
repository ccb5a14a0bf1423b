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

/** Mapping lookups and inserts per second on a device holding 1 M or 10 M mappings. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
public class MappingBenchmark {
    @Param({"1000000", "10000000"})
    long mappings;

    private ThinMetadata md;
    private final SplittableRandom random = new SplittableRandom(1);
    private long nextNew;

    @Setup(Level.Trial)
    public void build() throws Exception {
        md = Pools.withMappings(mappings, 20_000_000);
        nextNew = mappings;
    }

    /** As the pool commits about once a second, each iteration ends with a commit. */
    @TearDown(Level.Iteration)
    public void commit() {
        md.commit();
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        md.close();
    }

    @Benchmark
    public long lookupRandom() {
        return md.lookup(1, random.nextLong(mappings));
    }

    /** Provisioning: a new mapping at a random place beyond the existing ones. */
    @Benchmark
    public boolean insertNew() {
        long v = nextNew + random.nextLong(mappings);
        return md.insert(1, v, md.dataSpace().allocate());
    }
}
