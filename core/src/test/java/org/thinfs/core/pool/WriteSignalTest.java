package org.thinfs.core.pool;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WriteSignalTest {
    @Test
    void aWriteBeforeTheWaitIsSeenAtOnceAndOnlyOnce() {
        WriteSignal s = new WriteSignal();
        s.written(0, 4096);
        s.written(0, 4096);
        long t0 = System.nanoTime();
        assertTrue(s.await(TimeUnit.SECONDS.toNanos(5)));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "no sleep when a write is pending");
        assertFalse(s.await(TimeUnit.MILLISECONDS.toNanos(50)), "cleared by the first await");
    }

    @Test
    void aWriteWakesTheWaiter() throws Exception {
        WriteSignal s = new WriteSignal();
        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            boolean got = false;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!got && System.nanoTime() < deadline) {
                got = s.await(TimeUnit.SECONDS.toNanos(10));
            }
            return got;
        });
        Thread.sleep(100);
        long t0 = System.nanoTime();
        s.written(0, 4096);
        assertTrue(waiting.get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "woken, not timed out");
    }

    @Test
    void anUnparkEndsTheWaitWithoutAWrite() throws Exception {
        WriteSignal s = new WriteSignal();
        Thread[] me = new Thread[1];
        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            me[0] = Thread.currentThread();
            return s.await(TimeUnit.SECONDS.toNanos(30));
        });
        Thread.sleep(200);
        LockSupport.unpark(me[0]);
        assertFalse(waiting.get(5, TimeUnit.SECONDS));
    }

    @Test
    void noWriteIsLostBetweenManyWritersAndTheWaiter() throws Exception {
        // Every burst of writes is followed by an await that sees it: a write racing the clear is never dropped.
        WriteSignal s = new WriteSignal();
        for (int round = 0; round < 2000; round++) {
            Thread w = new Thread(() -> s.written(0, 4096));
            w.start();
            assertTrue(s.await(TimeUnit.SECONDS.toNanos(5)), "round " + round);
            w.join();
        }
    }

    @Test
    void aGatherEndsWhenEnoughIsWrittenAndCountsFromThere() throws Exception {
        WriteSignal s = new WriteSignal();
        s.written(0, 100);
        assertEquals(100, s.gather(0, TimeUnit.SECONDS.toNanos(5)), "what was already written is taken at once");
        CompletableFuture<Long> gathering = CompletableFuture.supplyAsync(
                () -> s.gather(1 << 20, TimeUnit.SECONDS.toNanos(30)));
        Thread.sleep(100);
        assertFalse(gathering.isDone(), "less than asked for was written");
        long t0 = System.nanoTime();
        for (int i = 0; i < 16; i++) {
            s.written(0, 64 << 10);
        }
        assertEquals(1L << 20, gathering.get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2), "woken by the write that crossed it");
        long t1 = System.nanoTime();
        assertEquals(0, s.gather(1 << 20, TimeUnit.MILLISECONDS.toNanos(50)), "counted from the last gather");
        assertTrue(System.nanoTime() - t1 >= TimeUnit.MILLISECONDS.toNanos(50), "its time limit ended it");
    }

    @Test
    void chunksWrittenAreTakenOnceInOrderAndOnlyWhenAskedFor() {
        WriteSignal s = new WriteSignal();
        s.written(5L << 20, 4096);
        assertEquals(0, s.drainChunks().length, "nothing is kept before trackChunks");
        s.trackChunks();
        s.written(7L << 20, 4096);
        s.written((7L << 20) + 4096, 4096);             // the same chunk again
        s.written((2L << 20) - 4096, 8192);             // across the end of chunk 1 into chunk 2
        s.written(40L << 20, 3L << 20);                 // three whole chunks
        assertArrayEquals(new long[] {1, 2, 7, 40, 41, 42}, s.drainChunks());
        assertEquals(0, s.drainChunks().length, "taken once");
        s.written(7L << 20, 4096);
        assertArrayEquals(new long[] {7}, s.drainChunks(), "the last chunk before a drain is recorded again after it");
    }
}
