package org.thinfs.core.pool;

import org.thinfs.core.io.DirectBufferPool;

import java.nio.ByteBuffer;

/**
 * Zero fill and copy for any {@link DataStore}, with shared reused buffers: no garbage on the copy-on-write path,
 * and native memory bounded at 1 MiB of zeros plus {@link #COPY_BUFFERS} (4 MiB) whatever threads come and go.
 */
final class DataBuffers {
    private static final int CHUNK = 1 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();
    private static final DirectBufferPool COPY_BUFFERS = new DirectBufferPool(16, 256 << 10);

    private DataBuffers() {
    }

    static void writeZeros(DataStore store, long pos, long length) {
        while (length > 0) {
            int n = (int) Math.min(length, CHUNK);
            store.write(pos, ZEROS.duplicate().limit(n));
            pos += n;
            length -= n;
        }
    }

    static void copy(DataStore store, long from, long to, long length) {
        ByteBuffer buf = COPY_BUFFERS.acquire();
        try {
            while (length > 0) {
                int n = (int) Math.min(length, buf.capacity());
                buf.clear().limit(n);
                store.read(from, buf);
                buf.flip();
                store.write(to, buf);
                from += n;
                to += n;
                length -= n;
            }
        } finally {
            COPY_BUFFERS.release(buf);
        }
    }

    /** Puts {@code n} zero bytes into {@code dst} at its position. */
    static void zero(ByteBuffer dst, int n) {
        int end = dst.position() + n;
        while (dst.position() < end) {
            int chunk = Math.min(end - dst.position(), CHUNK);
            dst.put(ZEROS.duplicate().limit(chunk));
        }
    }
}
