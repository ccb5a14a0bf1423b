package org.thinfs.fs.fuse;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The write-behind's choice of chunks, on a real file (its sync_file_range calls must succeed). */
class WriteBehindTest {
    private static final long MS = 1_000_000;

    @Test
    void aChunkWrittenBackAMomentAgoWaitsUntilItsTimeIsUp(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        Files.write(data, new byte[4 << 20]);                     // dirty pages in chunks 0-3
        AtomicInteger fullFlushes = new AtomicInteger();
        try (WriteBehind w = WriteBehind.unstarted(data, fullFlushes::incrementAndGet)) {
            long t = 1_000_000_000L;
            assertEquals(3, w.writeBackChunks(new long[] {0, 1, 3}, t), "new chunks are written back at once");
            assertEquals(1, w.writeBackChunks(new long[] {1, 2}, t + MS), "chunk 1 was just written back; 2 is new");
            assertEquals(0, w.writeBackChunks(new long[] {1}, t + 200 * MS), "still within its time");
            long later = t + WriteBehind.HOT_NANOS + 200 * MS;
            assertEquals(1, w.writeBackChunks(new long[0], later), "once its time is up, the waiting chunk goes");
            assertEquals(0, w.writeBackChunks(new long[0], later + 200 * MS), "and only once");
            assertEquals(0, fullFlushes.get(), "sync_file_range worked on a regular file: no full flush");
        }
    }
}
