package org.thinfs.fs.nbd;

import javax.net.ssl.SSLSocket;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.function.IntSupplier;

/**
 * One client's byte stream: the socket channel itself, or, after STARTTLS, the TLS session layered on it. Reads
 * and writes go through here so the protocol code does not care which; a plain socket keeps its zero-copy channel
 * I/O, a TLS one copies through the session's streams.
 */
final class NbdSocket implements Closeable {
    private final SocketChannel channel;
    /** The TLS session (null before STARTTLS); closing it sends close_notify. */
    private volatile Closeable tls;
    /** The socket the session runs on: its read timeout bounds the close_notify drain. */
    private volatile java.net.Socket tlsSocket;
    private volatile InputStream tlsIn;
    private volatile OutputStream tlsOut;
    /** After {@link #pollForRequests}: sleeps of a quiet reader, and of a writer the client is slow to drain. */
    private volatile Selector readable;
    private volatile Selector writable;
    private final PollWindow window = new PollWindow();
    /** How many of this connection's requests are being handled now. */
    private IntSupplier handling = () -> 0;

    NbdSocket(SocketChannel channel) {
        this.channel = channel;
    }

    SocketChannel channel() {
        return channel;
    }

    boolean isTls() {
        return tls != null;
    }

    /** From now on, every byte goes through {@code session} (STARTTLS, after its handshake). */
    void useTls(SSLSocket session) throws IOException {
        useTls(session.getInputStream(), session.getOutputStream(), session, session);
    }

    /**
     * From now on, every byte goes through a TLS session's streams (the JDK's or BouncyCastle's); {@code session}
     * ends it, {@code socket} is what its reads wait on.
     */
    void useTls(InputStream in, OutputStream out, Closeable session, java.net.Socket socket) {
        this.tlsIn = in;
        this.tlsOut = out;
        this.tlsSocket = socket;
        this.tls = session;
    }

    /**
     * Serves the rest of the connection from a non-blocking socket: a quiet read polls for a while (see
     * {@link PollWindow}), then sleeps in a selector. For the transmission phase of a plain socket only (TLS reads
     * through blocking streams, and the handshake's timeouts work on a blocking socket).
     */
    void pollForRequests(IntSupplier handling) throws IOException {
        if (tls != null || PollWindow.MAX_NS <= 0) {
            return;
        }
        this.handling = handling;
        channel.configureBlocking(false);
        readable = Selector.open();
        channel.register(readable, SelectionKey.OP_READ);
        writable = Selector.open();
        channel.register(writable, SelectionKey.OP_WRITE);
    }

    /**
     * Whether no byte waits to be read on the socket now; false when that cannot be known without reading (before
     * {@link #pollForRequests}, and over TLS, whose session may hold bytes already taken off the socket). The
     * thread holding the connection's reading turn only, as its reads. Never throws: a socket or selector closed
     * meanwhile answers false, and the next read or write finds it closed.
     */
    boolean quietNow() {
        Selector s = readable;
        if (s == null || tls != null) {
            return false;
        }
        try {
            int ready = s.selectNow();
            s.selectedKeys().clear();
            return ready == 0;
        } catch (IOException | java.nio.channels.ClosedSelectorException e) {
            return false;
        }
    }

    /** Reads some bytes into {@code b}, the start of a message; -1 at the end of the stream. */
    int read(ByteBuffer b) throws IOException {
        return read(b, false);
    }

    /**
     * Reads some bytes into {@code b}; -1 at the end of the stream. {@code midMessage}: the client is sending the
     * message these bytes belong to now (see {@link #awaitRead}).
     */
    int read(ByteBuffer b, boolean midMessage) throws IOException {
        if (tls == null) {
            int n = channel.read(b);
            return n != 0 || readable == null || !b.hasRemaining() ? n : awaitRead(b, midMessage);
        }
        int want = b.remaining();
        if (b.hasArray()) {
            int n = tlsIn.read(b.array(), b.arrayOffset() + b.position(), want);
            if (n > 0) {
                b.position(b.position() + n);
            }
            return n;
        }
        byte[] tmp = new byte[Math.min(want, 64 << 10)];
        int n = tlsIn.read(tmp);
        if (n > 0) {
            b.put(tmp, 0, n);
        }
        return n;
    }

    /** A non-blocking read found nothing: poll for the window, then sleep until bytes come. */
    private int awaitRead(ByteBuffer b, boolean midMessage) throws IOException {
        long quiet = System.nanoTime();
        // Between requests: only while at most one request of this connection is being handled (queue depth 1):
        // with more, the handlers need the CPUs, and their replies are what bring the next requests anyway.
        // Inside a message (the rest of a payload the client is still sending): the whole longest window, whatever
        // the adapted one says, since the rest is on its way, while the process has at most one request in hand
        // (1 MiB writes at depth 1: 0.31 s per GiB against 0.33 sleeping at once; BENCHMARKS.md, session 10).
        boolean poll = midMessage ? window.startPollingNearEnd() : handling.getAsInt() <= 1 && window.startPolling();
        if (poll) {
            try {
                long deadline = quiet + (midMessage ? PollWindow.MAX_NS : window.windowNs());
                do {
                    Thread.onSpinWait();
                    int n = channel.read(b);
                    if (n != 0) {
                        return n;
                    }
                } while (System.nanoTime() - deadline < 0
                        && (midMessage ? !PollWindow.busy() : handling.getAsInt() <= 1));
            } finally {
                window.stopPolling();
            }
        }
        while (true) {
            await(readable);
            int n = channel.read(b);
            if (n != 0) {
                if (!midMessage) {
                    window.slept(System.nanoTime() - quiet);   // the window is for waits between requests only
                }
                return n;
            }
        }
    }

    /**
     * Sleeps until the selector's one channel is ready. Closing the channel from another thread (the server
     * stopping) does not wake a selector, so the sleep is bounded and a closed channel ends it.
     */
    private void await(Selector s) throws IOException {
        if (!channel.isOpen() || !s.isOpen()) {
            throw new AsynchronousCloseException();
        }
        if (Thread.currentThread().isInterrupted()) {
            throw new ClosedByInterruptException();
        }
        try {
            s.select(1000);
        } catch (ClosedSelectorException e) {
            throw new AsynchronousCloseException();
        }
        s.selectedKeys().clear();
    }

    /** Writes all of {@code bufs}, in order. */
    void writeAll(ByteBuffer... bufs) throws IOException {
        if (tls == null) {
            long left = 0;
            for (ByteBuffer b : bufs) {
                left += b.remaining();
            }
            while (left > 0) {
                long n = channel.write(bufs);
                left -= n;
                if (n == 0) {
                    await(writable);                    // a full socket buffer: a client slow to read replies
                }
            }
            return;
        }
        for (ByteBuffer b : bufs) {
            if (b.hasArray()) {
                tlsOut.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
                b.position(b.limit());
            } else {
                byte[] tmp = new byte[Math.min(b.remaining(), 64 << 10)];
                while (b.hasRemaining()) {
                    int n = Math.min(tmp.length, b.remaining());
                    b.get(tmp, 0, n);
                    tlsOut.write(tmp, 0, n);
                }
            }
        }
        tlsOut.flush();
    }

    @Override
    public void close() throws IOException {
        Closeable s = tls;
        if (s != null) {
            // A client that disconnects sends its close_notify right after NBD_CMD_DISC and waits for ours. Read
            // it first (briefly): closing with its close_notify unread makes the JDK send user_canceled, which
            // GnuTLS (libnbd, qemu) reports as a fatal alert.
            try {
                tlsSocket.setSoTimeout(1000);
                byte[] drain = new byte[512];
                while (tlsIn.read(drain) >= 0) {
                    // a request after DISC: ignored
                }
            } catch (IOException ignored) {
                // timed out or already closed: close anyway
            }
            try {
                s.close();
            } catch (IOException ignored) {
                // the channel below is closed next anyway
            }
        }
        channel.close();
        for (Selector sel : new Selector[] {readable, writable}) {
            if (sel != null) {
                sel.close();                            // wakes a thread asleep in it
            }
        }
    }
}
