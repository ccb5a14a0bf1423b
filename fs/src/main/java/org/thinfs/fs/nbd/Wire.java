package org.thinfs.fs.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Whole reads and writes on a client's stream (plain or TLS). */
final class Wire {
    private Wire() {
    }

    /** Reads exactly {@code n} bytes into a new heap buffer (small headers and options only), flipped. */
    static ByteBuffer read(NbdSocket ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        readFully(ch, b);
        return b.flip();
    }

    /** Reads all of {@code b}, the start of a message: the client may be quiet for a while before it. */
    static void readFully(NbdSocket ch, ByteBuffer b) throws IOException {
        readFully(ch, b, false);
    }

    /**
     * Reads all of {@code b}; {@code started}: it continues a message the client is sending now (a request's
     * payload after its header), which NbdSocket waits for differently from the next message.
     */
    static void readFully(NbdSocket ch, ByteBuffer b, boolean started) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, started) < 0) {
                throw new EOFException("the client closed the connection");
            }
            started = true;                             // bytes of this message came: the rest is on its way
        }
    }

    /** Reads and drops {@code n} bytes through a small buffer (an oversized payload, refused but consumed). */
    static void skip(NbdSocket ch, long n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        while (n > 0) {
            b.clear().limit((int) Math.min(b.capacity(), n));
            readFully(ch, b, true);
            n -= b.position();
        }
    }

    static void writeAll(NbdSocket ch, ByteBuffer... bufs) throws IOException {
        ch.writeAll(bufs);
    }
}
