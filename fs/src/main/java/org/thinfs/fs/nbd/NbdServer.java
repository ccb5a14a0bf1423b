package org.thinfs.fs.nbd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.fs.net.ClientThreads;
import org.thinfs.fs.model.PoolFileSystem;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * An NBD server over a pool's model, on one address: {@code unix:PATH} (mode 0600) or {@code HOST:PORT}, where
 * a bare {@code PORT} or {@code :PORT} binds 127.0.0.1 only, so nothing is open to other hosts unless a host is
 * named. One thread per connection, at most {@link #MAX_CONNECTIONS}; every connection reaches the same pool, so
 * the exports offer NBD_FLAG_CAN_MULTI_CONN.
 */
public final class NbdServer implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);
    /** Threads beyond the admission's budgets: connections closing while new ones arrive. */
    private static final int SPARE_THREADS = 64;

    private final Path unixPath;
    private final NbdExports exports;
    private final int preferredBlock;
    private final NbdConfig config;
    private final Admission admission;
    private ClientThreads connections;

    private NbdServer(Path unixPath, PoolFileSystem fs, org.thinfs.fs.metrics.RequestStats stats, NbdConfig config) {
        this.unixPath = unixPath;
        this.config = config;
        this.exports = new NbdExports(fs, stats, config.exports(), config.readOnly());
        this.preferredBlock = (int) Math.min(Nbd.MAX_PAYLOAD, fs.pool().dataBlockSize());
        this.admission = new Admission(config);
    }

    /** For status: the address and what is not a default ("127.0.0.1:10809, exports vm*, read-only"). */
    public String describe(String address) {
        return address + config.describe();
    }

    /** The address an ADDRESS argument names; IllegalArgumentException with one sentence when it names none. */
    public static SocketAddress parse(String address) {
        if (address.startsWith("unix:")) {
            String p = address.substring(5);
            if (p.isEmpty()) {
                throw new IllegalArgumentException("--nbd unix:PATH needs a path");
            }
            return UnixDomainSocketAddress.of(Path.of(p).toAbsolutePath());
        }
        int colon = address.lastIndexOf(':');
        String host = colon < 0 ? "127.0.0.1" : address.substring(0, colon);
        String port = colon < 0 ? address : address.substring(colon + 1);
        if (host.isEmpty()) {
            host = "127.0.0.1";
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int n;
        try {
            n = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--nbd takes unix:PATH or [HOST:]PORT, not '" + address + "'");
        }
        if (n < 1 || n > 65535) {
            throw new IllegalArgumentException("--nbd port must be from 1 to 65535, not " + n);
        }
        return new InetSocketAddress(host, n);
    }

    /** Listens on {@code address} and serves {@code fs}'s volumes until closed. */
    public static NbdServer start(String address, PoolFileSystem fs) throws IOException {
        return start(address, fs, org.thinfs.fs.metrics.RequestStats.NONE, NbdConfig.DEFAULTS);
    }

    /** As above, counting every request in {@code stats} (the daemon's metrics). */
    public static NbdServer start(String address, PoolFileSystem fs, org.thinfs.fs.metrics.RequestStats stats,
                                  NbdConfig config) throws IOException {
        SocketAddress a = parse(address);
        ServerSocketChannel ch;
        Path unix = null;
        if (a instanceof UnixDomainSocketAddress u) {
            unix = u.getPath();
            if (Files.exists(unix) && !Files.isRegularFile(unix) && !Files.isDirectory(unix)) {
                Files.delete(unix); // a socket left by a killed daemon
            }
            ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            ch.bind(a);
            Files.setPosixFilePermissions(unix, PosixFilePermissions.fromString("rw-------"));
        } else {
            ch = ServerSocketChannel.open();
            ch.bind(a);
        }
        NbdServer s = new NbdServer(unix, fs, stats, config);
        boolean tcp = unix == null;
        s.connections = ClientThreads.start(ch, "thinfs-nbd",
                config.maxHandshakes() + config.maxConnections() + SPARE_THREADS, c -> {
                    if (tcp) {
                        tune(c);
                    } else {
                        unixSendBuffer(c);
                    }
                    new NbdConnection(c, s.exports, s.preferredBlock, s.admission, config.tls()).run();
                }, NbdServer::refuse);
        LOG.info("nbd: listening on {}", address);
        return s;
    }

    /** TCP_NODELAY (replies go out at once) and keepalive (a vanished peer's connection ends). */
    private static void tune(SocketChannel c) {
        try {
            c.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            c.setOption(java.net.StandardSocketOptions.SO_KEEPALIVE, true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("nbd: socket options: {}", e.getMessage());
        }
    }

    /** Bytes asked for a Unix socket's send buffer ({@link #unixSendBuffer}); 0 leaves the system's default. */
    private static final int UNIX_SEND_BUFFER = Integer.getInteger("thinfs.nbd.unixSendBuffer", 1 << 20);

    /**
     * A Unix socket's send buffer large enough for a 1 MiB reply at once. The default (net.core.wmem_default,
     * 208 KiB) made a 1 MiB read's reply wait for the client five times; with room for it, read 1M qd16 took 0.17 s
     * per GiB instead of 0.25 (BENCHMARKS.md, session 10). The kernel doubles the figure and caps it at
     * net.core.wmem_max (4 MiB on the benchmark machine; where that is 208 KiB, nothing changes). TCP is left to
     * the kernel's autotuning, which a fixed size would turn off (and a far host needs more than 2 MiB in flight).
     */
    private static void unixSendBuffer(SocketChannel c) {
        if (UNIX_SEND_BUFFER <= 0) {
            return;
        }
        try {
            c.setOption(java.net.StandardSocketOptions.SO_SNDBUF, UNIX_SEND_BUFFER);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("nbd: socket options: {}", e.getMessage());
        }
    }

    private static void refuse(SocketChannel c) {
        LOG.warn("nbd: refused a connection: every thread is taken");
        try {
            c.close();
        } catch (IOException ignored) {
            // refused anyway
        }
    }

    /** Stops listening, closes every connection and waits for their requests in flight. */
    @Override
    public void close() {
        connections.close(10_000);
        admission.close();
        if (unixPath != null) {
            try {
                Files.deleteIfExists(unixPath);
            } catch (IOException e) {
                LOG.warn("cannot remove {}: {}", unixPath, e.getMessage());
            }
        }
    }
}
