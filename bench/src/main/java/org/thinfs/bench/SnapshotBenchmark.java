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

import java.util.concurrent.TimeUnit;

/**
 * Snapshot creation against the origin's size: it must stay flat, since the snapshot only shares the origin's
 * root.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx4g"})
public class SnapshotBenchmark {
    @Param({"1000", "1000000", "10000000"})
    long mappedBlocks;

    private ThinMetadata md;
    private long nextId = 2;

    @Setup(Level.Trial)
    public void build() throws Exception {
        md = Pools.withMappings(mappedBlocks, 5_000_000);
    }

    /** Drops this iteration's snapshots so the next starts from the same pool. */
    @TearDown(Level.Iteration)
    public void dropSnapshots() {
        for (long id = 2; id < nextId; id++) {
            md.delete(id);
        }
        nextId = 2;
        md.commit();
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        md.close();
    }

    @Benchmark
    public void createSnapshot() {
        md.createSnapshot(nextId++, 1);
    }
}
