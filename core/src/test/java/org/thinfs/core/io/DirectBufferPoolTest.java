package org.thinfs.core.io;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectBufferPoolTest {
    @Test
    void shortLivedThreadsShareTheSameFewBuffers() throws Exception {
        DirectBufferPool pool = new DirectBufferPool(2, 4096);
        for (int i = 0; i < 200; i++) {
            Thread t = new Thread(() -> {
                ByteBuffer b = pool.acquire();
                try {
                    b.put((byte) 1);
                } finally {
                    pool.release(b);
                }
            });
            t.start();
            t.join();
        }
        assertEquals(1, pool.made(), "one thread at a time needs one buffer, whatever threads come and go");
    }

    @Test
    void aBorrowerWaitsWhenAllBuffersAreOutAndGetsAClearedOne() throws Exception {
        DirectBufferPool pool = new DirectBufferPool(1, 4096);
        ByteBuffer first = pool.acquire();
        first.position(100);
        AtomicReference<ByteBuffer> got = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            got.set(pool.acquire());
            done.countDown();
        });
        t.start();
        assertFalse(done.await(200, TimeUnit.MILLISECONDS), "the second borrower must wait");
        pool.release(first);
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertSame(first, got.get());
        assertEquals(0, got.get().position());
        assertEquals(4096, got.get().limit());
        assertEquals(1, pool.made());
    }

    @Test
    void releasingMoreThanWasMadeIsRefused() {
        DirectBufferPool pool = new DirectBufferPool(1, 16);
        List<ByteBuffer> out = new ArrayList<>();
        out.add(pool.acquire());
        pool.release(out.get(0));
        assertThrows(IllegalStateException.class, () -> pool.release(ByteBuffer.allocateDirect(16)));
    }

    @Test
    void lendsTheBufferMostRecentlyGivenBackAndEveryBufferIsPageAligned() {
        DirectBufferPool pool = new DirectBufferPool(3, 100_000);
        ByteBuffer a = pool.acquire();
        ByteBuffer b = pool.acquire();
        ByteBuffer c = pool.acquire();
        for (ByteBuffer x : List.of(a, b, c)) {
            assertEquals(0, x.alignmentOffset(0, AlignedBuffers.PAGE), "a pool buffer starts on a page boundary");
            assertEquals(100_000, x.capacity());
        }
        pool.release(a);
        pool.release(b);
        pool.release(c);
        assertSame(c, pool.acquire(), "last in, first out: the buffer still in the CPU's caches");
        assertSame(b, pool.acquire());
    }
}
