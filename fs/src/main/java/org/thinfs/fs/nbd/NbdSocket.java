package org.thinfs.fs.nbd;

import javax.net.ssl.SSLSocket;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

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

    /** Reads some bytes into {@code b}; -1 at the end of the stream. */
    int read(ByteBuffer b) throws IOException {
        if (tls == null) {
            return channel.read(b);
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

    /** Writes all of {@code bufs}, in order. */
    void writeAll(ByteBuffer... bufs) throws IOException {
        if (tls == null) {
            long left = 0;
            for (ByteBuffer b : bufs) {
                left += b.remaining();
            }
            while (left > 0) {
                left -= channel.write(bufs);
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
    }
}
