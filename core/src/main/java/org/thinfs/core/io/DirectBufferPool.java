package org.thinfs.core.io;

import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingDeque;

/**
 * At most {@code count} direct buffers of one size, shared by every thread and made on first need.
 *
 * <p>Why not a buffer per thread: FUSE starts and ends worker threads as load comes and goes, and a direct buffer
 * held by a dead thread's ThreadLocal is freed only when a GC happens to collect it; under a large, quiet heap that
 * is never, and the daemon's resident memory grew by a megabyte per thread ever started. Here the native memory is
 * bounded by {@code count * size}, whatever the threads do. A borrower waits when all buffers are out.
 *
 * <p>Buffers are page-aligned ({@link AlignedBuffers}) and lent last in, first out, so a borrower gets the buffer
 * most recently used, still in the CPU's caches.
 */
public final class DirectBufferPool {
    private final int bufferSize;
    private final int count;
    private final LinkedBlockingDeque<ByteBuffer> free;
    /** Buffers made so far; guarded by this. */
    private int made;

    public DirectBufferPool(int count, int bufferSize) {
        if (count < 1 || bufferSize < 1) {
            throw new IllegalArgumentException("a buffer pool needs at least one buffer of at least one byte");
        }
        this.count = count;
        this.bufferSize = bufferSize;
        this.free = new LinkedBlockingDeque<>(count);
    }

    public int bufferSize() {
        return bufferSize;
    }

    /** A cleared buffer; hand it back with {@link #release} in a finally block. */
    public ByteBuffer acquire() {
        ByteBuffer b = free.pollFirst();
        if (b == null) {
            synchronized (this) {
                if (made < count) {
                    made++;
                    return AlignedBuffers.allocate(bufferSize);
                }
            }
            b = takeUninterruptibly();
        }
        return b.clear();
    }

    public void release(ByteBuffer b) {
        if (!free.offerFirst(b)) {
            throw new IllegalStateException("a buffer was released twice or does not belong to this pool");
        }
    }

    /** Buffers made so far (for tests). */
    synchronized int made() {
        return made;
    }

    private ByteBuffer takeUninterruptibly() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return free.takeFirst();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
