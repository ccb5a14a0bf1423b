package org.thinfs.fs.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.pool.DataFile;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinPool;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The periodic commit's clock: a change is committed an interval after the first change since the last commit (not
 * on a fixed beat), an idle pool is never committed, and closing does not wait out the interval. Real pool files.
 */
class PeriodicCommitTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    private ThinPool newPool() throws IOException {
        Path meta = dir.resolve("metadata");
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.setLength(4 << 20);
        }
        Path data = Files.createFile(dir.resolve("data"));
        return ThinPool.create(FileBlockDevice.open(meta, true), new DataFile(data, true), meta,
                new PoolConfig(BLOCK, 64L * BLOCK, 4 << 20), PoolOptions.DEFAULT);
    }

    @Test
    void aChangeIsDueOneIntervalAfterItWasMadeAndCommittedThen() throws Exception {
        ThinPool pool = newPool();
        long interval = TimeUnit.SECONDS.toNanos(2);     // wide: a loaded CI machine may pause the test
        try (PoolFileSystem fs = PoolFileSystem.open(pool, dir)) {
            fs.createVolume("/v", 0644);
            fs.truncate("/v", 8L * BLOCK);
            Handle h = fs.open("/v", true);
            assertEquals(Long.MAX_VALUE, fs.nanosUntilCommitDue(interval), "namespace changes commit at once");
            long committed = pool.transaction().id();

            try (PeriodicCommit clock = PeriodicCommit.start(fs, Duration.ofNanos(interval))) {
                // Idle for most of an interval: on a fixed beat the commit would land 500 ms after the write below.
                Thread.sleep(1500);
                assertEquals(committed, pool.transaction().id(), "an idle pool is not committed");
                long written = System.nanoTime();
                fs.write(h, 0, ByteBuffer.wrap(new byte[BLOCK]));             // provisions: a commit is due
                long due = fs.nanosUntilCommitDue(interval);
                assertTrue(due > 0 && due <= interval, "due within the interval of the write, not now: " + due);
                fs.write(h, BLOCK, ByteBuffer.wrap(new byte[BLOCK]));
                assertTrue(fs.nanosUntilCommitDue(interval) <= due, "a later change does not push the commit back");

                // A scheduled commit never runs early: at 2/3 of the interval after the write nothing is committed.
                long early = written + interval * 2 / 3 - System.nanoTime();
                if (early > 0) {
                    TimeUnit.NANOSECONDS.sleep(early);
                }
                assertEquals(committed, pool.transaction().id(), "committed before the interval since the write ran out");

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);     // a loaded CI machine is slow
                while (pool.transaction().id() == committed && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertEquals(committed + 1, pool.transaction().id(), "one commit for both writes");
                assertEquals(Long.MAX_VALUE, fs.nanosUntilCommitDue(interval));
            }
        }
    }

    @Test
    void closingDoesNotWaitOutTheInterval() throws Exception {
        ThinPool pool = newPool();
        try (PoolFileSystem fs = PoolFileSystem.open(pool, dir)) {
            PeriodicCommit clock = PeriodicCommit.start(fs, Duration.ofMinutes(10));
            long start = System.nanoTime();
            clock.close();
            long took = System.nanoTime() - start;
            assertTrue(took < TimeUnit.SECONDS.toNanos(30), "close waited " + took / 1_000_000 + " ms");
        }
    }
}
