package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.StorageIOException;
import org.thinfs.core.format.Layout;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A commit's data flush and the caller's flush run beside the metadata's (CommitFlushes), and the superblock still
 * comes after all of them: slow flushes end before it is written, and a failed one means it is never written.
 */
class CommitFlushesTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    /** Records, in order, each flush's end and each superblock write. */
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    private final class RecordingMetadata implements BlockDevice {
        final MemoryBlockDevice inner = new MemoryBlockDevice(1024);

        @Override public long nrBlocks() { return inner.nrBlocks(); }
        @Override public void read(long nr, ByteBuffer dst) { inner.read(nr, dst); }
        @Override public void write(long nr, ByteBuffer src) {
            if (nr == Layout.SUPERBLOCK_LOCATION) {
                events.add("superblock");
            }
            inner.write(nr, src);
        }
        @Override public void flush() { inner.flush(); }
        @Override public void close() { inner.close(); }
    }

    /** A data file whose flush takes 100 ms (a slow disk) and can be told to fail. */
    private final class SlowData extends DelegatingStore {
        volatile boolean fail;

        SlowData(DataStore inner) {
            super(inner);
        }

        @Override public void flush() {
            sleep(100);
            if (fail) {
                events.add("data flush failed");
                throw StorageIOException.of("cannot flush the data file", new IOException("injected EIO"));
            }
            super.flush();
            events.add("data flushed");
        }
    }

    @Test
    void theSuperblockWaitsForEverySlowFlushAndAFailedOneStopsIt() throws Exception {
        SlowData data = new SlowData(new DataFile(Files.createFile(dir.resolve("data")), true));
        ThinPool pool = ThinPool.create(new RecordingMetadata(), data, null,
                new PoolConfig(BLOCK, 64L * BLOCK, 4L << 20), PoolOptions.DEFAULT);
        pool.createThin(1);
        pool.device(1).write(0, ByteBuffer.wrap(new byte[]{1, 2, 3}));
        events.clear();

        pool.commitPreFlushed(() -> {
            sleep(150);
            events.add("catalog flushed");
        });
        assertEquals("superblock", events.get(events.size() - 1), events.toString());
        assertTrue(events.containsAll(List.of("data flushed", "catalog flushed")), events.toString());
        long committed = pool.transaction().committedId();

        // A failed flush (data, or the caller's): no superblock, and nothing more is committed on top of it.
        pool.device(1).write(BLOCK, ByteBuffer.wrap(new byte[]{4}));
        events.clear();
        data.fail = true;
        assertThrows(StorageIOException.class, () -> pool.commitPreFlushed(() -> events.add("catalog flushed")));
        assertTrue(events.contains("data flush failed") && !events.contains("superblock"), events.toString());
        assertTrue(pool.isReadOnly());
        assertEquals(committed, pool.transaction().committedId());

        data.fail = false;
        ThinPool other = ThinPool.create(new RecordingMetadata(), new SlowData(new DataFile(
                Files.createFile(dir.resolve("data2")), true)), null, new PoolConfig(BLOCK, 64L * BLOCK, 4L << 20),
                PoolOptions.DEFAULT);
        other.createThin(1);
        events.clear();
        assertThrows(StorageIOException.class, () -> other.commitPreFlushed(() -> {
            throw StorageIOException.of("cannot flush the catalog", new IOException("injected EIO"));
        }));
        assertTrue(events.contains("data flushed") && !events.contains("superblock"), events.toString());
        assertTrue(other.isReadOnly());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Forwards everything to {@code inner}. */
    private static class DelegatingStore implements DataStore {
        private final DataStore inner;

        DelegatingStore(DataStore inner) {
            this.inner = inner;
        }

        @Override public long size() { return inner.size(); }
        @Override public void ensureSize(long bytes) { inner.ensureSize(bytes); }
        @Override public void read(long pos, ByteBuffer dst) { inner.read(pos, dst); }
        @Override public void write(long pos, ByteBuffer src) { inner.write(pos, src); }
        @Override public void flush() { inner.flush(); }
        @Override public void close() throws IOException { inner.close(); }
    }
}
