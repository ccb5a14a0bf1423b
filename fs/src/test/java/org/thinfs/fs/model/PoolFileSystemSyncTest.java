package org.thinfs.fs.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.pool.DataFile;
import org.thinfs.core.pool.DataStore;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.core.io.FileBlockDevice;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which writes need a commit: provisioning and growing a volume change metadata and must be committed; a write in
 * place changes nothing the metadata holds, so the periodic commit skips it, and fsync only flushes the data file.
 * Real files; the data store counts flushes.
 */
class PoolFileSystemSyncTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    /** The real data file, counting flushes. */
    private static final class CountingDataFile implements DataStore {
        final DataFile file;
        final AtomicInteger flushes = new AtomicInteger();

        CountingDataFile(Path p) throws IOException {
            if (!Files.exists(p)) {
                Files.createFile(p);
            }
            file = new DataFile(p, true);
        }

        @Override public long size() { return file.size(); }
        @Override public void ensureSize(long bytes) { file.ensureSize(bytes); }
        @Override public void read(long pos, ByteBuffer dst) { file.read(pos, dst); }
        @Override public void write(long pos, ByteBuffer src) { file.write(pos, src); }
        /** When set, the next flush waits for it (once). */
        volatile CountDownLatch holdNextFlush;
        final CountDownLatch flushHeld = new CountDownLatch(1);

        /**
         * When set, the next flush under a commit's gate fails (once), after the catalog was written, whatever
         * number of pre-flush passes ran before it.
         */
        volatile boolean failNextGatedFlush;

        @Override public void flush() {
            // The flush under the gate runs on a commit's helper thread (CommitFlushes), beside the metadata's.
            if (failNextGatedFlush && Thread.currentThread().getName().equals("thinfs-flush")) {
                failNextGatedFlush = false;
                throw org.thinfs.core.StorageIOException.of("injected: the data file could not be flushed",
                        new IOException("EIO"));
            }
            CountDownLatch hold = holdNextFlush;
            if (hold != null) {
                holdNextFlush = null;
                flushHeld.countDown();
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            flushes.incrementAndGet();
            file.flush();
        }
        @Override public void close() throws IOException { file.close(); }
    }

    /** A pool of 64 blocks over {@code data}, in the test's directory. */
    private ThinPool newPool(CountingDataFile data) throws IOException {
        Path meta = dir.resolve("metadata");
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.setLength(4 << 20);
        }
        return ThinPool.create(FileBlockDevice.open(meta, true), data, meta,
                new PoolConfig(BLOCK, 64L * BLOCK, 4 << 20), PoolOptions.DEFAULT);
    }

    /** Volume /v of 8 blocks, open for writing. */
    private static Handle newVolume(PoolFileSystem fs) {
        fs.createVolume("/v", 0644);
        fs.truncate("/v", 8L * BLOCK);
        return fs.open("/v", true);
    }

    @Test
    void inPlaceWritesAreFlushedBySyncButNeedNoCommit() throws Exception {
        CountingDataFile data = new CountingDataFile(dir.resolve("data"));
        ThinPool pool = newPool(data);
        try (PoolFileSystem fs = PoolFileSystem.open(pool, dir)) {
            Handle h = newVolume(fs);

            fs.write(h, 0, ByteBuffer.wrap(new byte[2 * BLOCK]));
            assertTrue(fs.isDirty(), "provisioning changes the mappings");
            fs.sync();
            long committed = pool.transaction().id();
            assertFalse(fs.isDirty());

            int before = data.flushes.get();
            fs.write(h, 100, ByteBuffer.wrap(new byte[]{1, 2, 3}));
            assertFalse(fs.isDirty(), "a write into a mapped block changes no metadata");
            assertTrue(fs.timesPending(), "only the volume's mtime changed, in memory");
            fs.commit();
            assertEquals(before, data.flushes.get(), "the periodic commit has nothing to do for a time alone");
            fs.syncData();
            assertEquals(before + 1, data.flushes.get(), "fdatasync still makes the in-place write durable");
            assertEquals(committed, pool.transaction().id(), "and needs no metadata commit");
            fs.sync();
            assertEquals(before + 2, data.flushes.get(), "fsync flushes the data");
            assertEquals(committed, pool.transaction().id(), "and stores the mtime in the times log, not by a commit");
            assertFalse(fs.timesPending());
            assertTrue(Files.exists(dir.resolve("times.1.json")));

            fs.write(h, 8L * BLOCK, ByteBuffer.wrap(new byte[]{9}));
            assertTrue(fs.isDirty(), "growing the volume changes the catalog (and provisions a block)");
            fs.sync();
            assertEquals(committed + 1, pool.transaction().id());
            assertEquals(8L * BLOCK + 1, fs.getattr("/v").size());
        }
    }

    /**
     * The periodic commit saves times alone (writes in place) in the times log once they are old enough: no data
     * flush, no metadata commit, and a copy of the pool's files taken right after (what a crash leaves) has them.
     */
    @Test
    void thePeriodicCommitSavesTimesAloneWithoutADataFlush() throws Exception {
        CountingDataFile data = new CountingDataFile(dir.resolve("data"));
        ThinPool pool = newPool(data);
        long mtime;
        try (PoolFileSystem fs = PoolFileSystem.open(pool, dir)) {
            Handle h = newVolume(fs);
            fs.write(h, 0, ByteBuffer.wrap(new byte[BLOCK]));
            fs.sync();
            long committed = pool.transaction().id();
            int flushes = data.flushes.get();
            Thread.sleep(2);
            fs.write(h, 5, ByteBuffer.wrap(new byte[]{1}));                  // in place: the times change
            fs.commit();
            assertTrue(fs.timesPending(), "times alone wait 30 s");
            assertTrue(fs.nanosUntilCommitDue(1_000_000_000L) > 1_000_000_000L, "and are not due yet");
            fs.commit(0);
            assertFalse(fs.timesPending(), "saved once old enough");
            assertEquals(flushes, data.flushes.get(), "without a data flush");
            assertEquals(committed, pool.transaction().id(), "or a metadata commit");
            assertEquals(Long.MAX_VALUE, fs.nanosUntilCommitDue(1_000_000_000L));
            mtime = fs.getattr("/v").mtimeNs();
            copyPool(dir, dir.resolve("crash"));
        }
        Path copy = dir.resolve("crash");
        try (PoolFileSystem fs = PoolFileSystem.open(openPool(copy), copy)) {
            assertEquals(mtime, fs.getattr("/v").mtimeNs(), "the saved times survive a crash");
        }
    }

    /**
     * A full fsync after writes in place makes the volume's times durable without a commit: a copy of the pool's
     * files taken right after it (what a crash leaves) opens with the fsynced mtime. A log torn by a crash (its
     * CRC fails) falls back to the previous fsync's slot; a later commit supersedes both; garbage in a slot never
     * stops a pool from opening.
     */
    @Test
    void fsyncMakesTimesDurableThroughTheLogAndACrashKeepsThem() throws Exception {
        ThinPool pool = newPool(new CountingDataFile(dir.resolve("data")));
        long[] mtimes = new long[3];
        try (PoolFileSystem fs = PoolFileSystem.open(pool, dir)) {
            Handle h = newVolume(fs);
            fs.write(h, 0, ByteBuffer.wrap(new byte[BLOCK]));
            fs.sync();
            long committed = pool.transaction().id();
            for (int i = 0; i < 3; i++) {
                Thread.sleep(2);
                fs.write(h, 10 + i, ByteBuffer.wrap(new byte[]{(byte) i}));
                fs.sync();
                mtimes[i] = fs.getattr("/v").mtimeNs();
                copyPool(dir, dir.resolve("crash" + i));
            }
            assertEquals(committed, pool.transaction().id(), "times alone never committed");
            assertTrue(mtimes[0] < mtimes[1] && mtimes[1] < mtimes[2]);

            // the fsync of i = 2 wrote slot 1 (seq 3); tear it in the copy taken after it
            Path torn = dir.resolve("crash2").resolve("times.1.json");
            byte[] b = Files.readAllBytes(torn);
            b[100] ^= 1;
            Files.write(torn, b);
            // garbage in the older slot of the copy after i = 1 (its newest, seq 2, is slot 0)
            Files.write(dir.resolve("crash1").resolve("times.1.json"), new byte[]{'{', 'x'});
            // a slot whose CRC checks but whose JSON holds no volumes, with the highest seq: ignored, not a crash
            byte[] json = ("{\"base\":" + committed + ",\"seq\":99,\"volumes\":null}").getBytes();
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(json);
            byte[] head = ("thinfs-times 1 " + Long.toHexString(crc.getValue()) + " " + json.length + "\n").getBytes();
            byte[] crafted = java.util.Arrays.copyOf(head, head.length + json.length);
            System.arraycopy(json, 0, crafted, head.length, json.length);
            Files.write(dir.resolve("crash0").resolve("times.0.json"), crafted);

            fs.write(h, 2L * BLOCK, ByteBuffer.wrap(new byte[]{7}));            // provisions: a real commit
            fs.sync();
            assertEquals(committed + 1, pool.transaction().id());
        }
        for (int i = 0; i < 3; i++) {
            Path copy = dir.resolve("crash" + i);
            try (PoolFileSystem fs = PoolFileSystem.open(openPool(copy), copy)) {
                long want = i == 2 ? mtimes[1] : mtimes[i];
                assertEquals(want, fs.getattr("/v").mtimeNs(), "crash image " + i);
                assertEquals(8L * BLOCK, fs.getattr("/v").size(), "a log holds times only");
            }
        }
        try (PoolFileSystem fs = PoolFileSystem.open(openPool(dir), dir)) {
            assertTrue(fs.getattr("/v").mtimeNs() > mtimes[2], "the commit after the logs holds the newest times");
        }
    }

    private static void copyPool(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : new String[]{"metadata", "data", "catalog.0.json", "catalog.1.json", "times.0.json",
                "times.1.json"}) {
            if (Files.exists(from.resolve(f))) {
                Files.copy(from.resolve(f), to.resolve(f));
            }
        }
    }

    private static ThinPool openPool(Path pool) throws IOException {
        return ThinPool.open(pool.resolve("metadata"), pool.resolve("data"), PoolOptions.DEFAULT);
    }

    /**
     * A commit whose data flush fails (here the flush under the gate, after the catalog of the next transaction was
     * written) commits nothing and turns the pool read-only: the host may have dropped the pages it could not write,
     * so no later commit may map them. The committed transaction and its catalog are what the pool reopens with.
     */
    @Test
    void aFailedDataFlushCommitsNothingAndStopsChanges() throws Exception {
        CountingDataFile data = new CountingDataFile(dir.resolve("data"));
        ThinPool pool = newPool(data);
        long committed = -1;
        try (PoolFileSystem fs = PoolFileSystem.open(pool, dir)) {
            newVolume(fs);
            fs.sync();
            committed = pool.transaction().id();
            assertEquals(List.of("v"), List.copyOf(Catalog.read(dir, committed).volumes.keySet()));

            data.failNextGatedFlush = true;
            RuntimeException first = assertThrows(RuntimeException.class, () -> fs.createVolume("/w", 0644));
            assertTrue(first.getMessage().contains("could not be flushed"), first.getMessage());
            assertTrue(pool.isReadOnly(), "a failed data flush stops every later change");
            assertThrows(RuntimeException.class, () -> fs.createVolume("/x", 0644));

            // The superblock on disk still says `committed`, and its catalog is whole.
            Catalog.Document recovered = Catalog.read(dir, committed);
            assertEquals(committed, recovered.transactionId);
            assertEquals(List.of("v"), List.copyOf(recovered.volumes.keySet()));
        }
        ThinPool reopened = ThinPool.open(dir.resolve("metadata"), dir.resolve("data"), PoolOptions.DEFAULT);
        try (PoolFileSystem fs = PoolFileSystem.open(reopened, dir)) {
            assertEquals(committed, reopened.transaction().id());
            assertTrue(fs.list("/").contains("v"));
            assertFalse(fs.list("/").contains("w"), "the change whose commit failed is not there");
        }
    }

    @Test
    void namespaceOperationsDoNotWaitForTheCommitsDataFlush() throws Exception {
        CountingDataFile data = new CountingDataFile(dir.resolve("data"));
        ThinPool pool = newPool(data);
        try (PoolFileSystem fs = PoolFileSystem.open(pool, dir)) {
            Handle h = newVolume(fs);
            fs.write(h, 0, ByteBuffer.wrap(new byte[2 * BLOCK]));

            // A slow disk: the commit's data flush does not finish until released.
            CountDownLatch release = new CountDownLatch(1);
            data.holdNextFlush = release;
            ExecutorService committer = Executors.newSingleThreadExecutor();
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                Future<?> commit = committer.submit(() -> {
                    fs.commit();
                    return null;
                });
                assertTrue(data.flushHeld.await(10, TimeUnit.SECONDS), "the commit started flushing");
                // Meanwhile the namespace answers: stat, a new volume, a snapshot (in bounded time: with the flush
                // under the monitor these wait for as long as the flush does).
                Future<Long> namespace = other.submit(() -> {
                    long size = fs.getattr("/v").size();
                    fs.createVolume("/w", 0644);
                    fs.mkdir("/snapshots/s");
                    return size;
                });
                assertEquals(8L * BLOCK, namespace.get(10, TimeUnit.SECONDS));
                assertFalse(commit.isDone(), "the commit is still waiting for its flush");
                release.countDown();
                commit.get(10, TimeUnit.SECONDS);
            } finally {
                release.countDown();
                committer.shutdown();
                other.shutdown();
            }
            fs.sync();
            assertFalse(fs.isDirty());
            assertTrue(fs.list("/snapshots").contains("s"));
        }
    }
}
