package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.OutOfDataSpaceException;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Autoextend and when-full on a real pool in files: the writer's view, the bounds, the events. */
class AutoExtenderTest {
    private static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    private ThinPool pool(long blocks) throws Exception {
        Path data = dir.resolve("data");
        Files.createFile(data);
        return ThinPool.create(dir.resolve("metadata"), data, new PoolConfig(BLOCK, blocks * BLOCK, 4L << 20),
                PoolOptions.DEFAULT);
    }

    private static void fill(ThinDevice d, long fromBlock, long blocks) {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        for (long i = fromBlock; i < fromBlock + blocks; i++) {
            b.clear().putLong(0, i);
            d.write(i * BLOCK, b);
        }
    }

    @Test
    void aWriterFindingThePoolFullGrowsItUpToTheMaximumThenGetsEnospc() throws Exception {
        List<PoolEvent> events = Collections.synchronizedList(new ArrayList<>());
        try (ThinPool tp = pool(16)) {
            tp.setEventListener(events::add);
            SpacePolicy p = new SpacePolicy(80, 50, 40L * BLOCK, SpacePolicy.WhenFull.ERROR);
            AutoExtender ext = new AutoExtender(tp, () -> Long.MAX_VALUE, p, 0);
            tp.setFullHandler(ext);
            ThinDevice d = tp.createThin(1);
            fill(d, 0, 40); // past 16 without a single error: 16 -> 24 -> 36 -> 40
            assertEquals(40, tp.usage().dataBlocks());
            assertThrows(OutOfDataSpaceException.class, () -> fill(d, 40, 1), "autoextend-max bounds the growth");
            assertTrue(events.stream().anyMatch(e -> e.kind() == PoolEvent.Kind.EXTENDED), events.toString());
            assertTrue(events.stream().anyMatch(e -> e.kind() == PoolEvent.Kind.OUT_OF_SPACE), events.toString());
            ByteBuffer r = ByteBuffer.allocate(8);
            d.read(39L * BLOCK, r);
            assertEquals(39, r.getLong(0), "what was written across the extensions reads back");
        }
    }

    @Test
    void theHostsFreeSpaceBoundsTheGrowthLessAMargin() throws Exception {
        try (ThinPool tp = pool(16)) {
            long margin = AutoExtender.hostMargin(0);
            // The host could store 4 more blocks beyond the margin: the pool never offers more than that free.
            AutoExtender ext = new AutoExtender(tp, () -> margin + 4L * BLOCK,
                    new SpacePolicy(50, 100, 0, SpacePolicy.WhenFull.ERROR), 0);
            tp.setFullHandler(ext);
            ThinDevice d = tp.createThin(1);
            fill(d, 0, 14);
            ext.check();
            assertEquals(18, tp.usage().dataBlocks(), "used (14) + what the host can hold (4), not +100%");
            ext.check();
            assertEquals(18, tp.usage().dataBlocks(), "no further: 4 free is all the host can store");
        }
    }

    @Test
    void thresholdCheckGrowsBeforeTheSpaceFills() throws Exception {
        try (ThinPool tp = pool(20)) {
            AutoExtender ext = new AutoExtender(tp, () -> Long.MAX_VALUE,
                    new SpacePolicy(80, 20, 0, SpacePolicy.WhenFull.ERROR), 0);
            ThinDevice d = tp.createThin(1);
            fill(d, 0, 15);
            ext.check();
            assertEquals(20, tp.usage().dataBlocks(), "75% is below the threshold");
            fill(d, 15, 1);
            ext.check();
            assertEquals(24, tp.usage().dataBlocks(), "80% reached: grown by 20%");
            assertFalse(ext.overThreshold()[1], "metadata is far from its threshold");
        }
    }

    @Test
    void whenFullWaitHoldsTheWriterUntilAResizeThenTheWriteLands() throws Exception {
        try (ThinPool tp = pool(8)) {
            tp.setFullHandler(new AutoExtender(tp, () -> Long.MAX_VALUE,
                    new SpacePolicy(100, 20, 0, SpacePolicy.WhenFull.WAIT), TimeUnit.SECONDS.toNanos(30)));
            ThinDevice d = tp.createThin(1);
            fill(d, 0, 8);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> fill(d, 8, 2));
            Thread.sleep(500);
            assertFalse(writer.isDone(), "the writer waits for space");
            tp.resizeData(16);
            writer.get(10, TimeUnit.SECONDS);
            assertEquals(10, d.mappedBlocks());
        }
    }

    @Test
    void whenFullWaitGivesUpAfterItsTimeout() throws Exception {
        try (ThinPool tp = pool(4)) {
            tp.setFullHandler(new AutoExtender(tp, () -> Long.MAX_VALUE,
                    new SpacePolicy(100, 20, 0, SpacePolicy.WhenFull.WAIT), TimeUnit.MILLISECONDS.toNanos(400)));
            ThinDevice d = tp.createThin(1);
            fill(d, 0, 4);
            long t0 = System.nanoTime();
            assertThrows(OutOfDataSpaceException.class, () -> fill(d, 4, 1));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(400), "held for the timeout first");
            assertEquals(4, d.mappedBlocks(), "nothing of the failed write landed");
        }
    }

    @Test
    void settingsAreCheckedWithOneSentenceEach() {
        SpacePolicy p = SpacePolicy.DEFAULT;
        assertEquals(80, p.with("autoextend-threshold", "80").threshold());
        assertEquals(SpacePolicy.WhenFull.WAIT, p.with("when-full", "wait").whenFull());
        for (String[] bad : new String[][]{{"autoextend-threshold", "20"}, {"autoextend-threshold", "x"},
                {"autoextend-percent", "0"}, {"autoextend-max", "-1"}, {"when-full", "queue"}, {"colour", "red"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.with(bad[0], bad[1]));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().length() > 10, e.getMessage());
        }
    }
}
