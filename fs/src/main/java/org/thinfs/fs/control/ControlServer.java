package org.thinfs.fs.control;

import org.thinfs.fs.net.ClientThreads;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's control socket: a Unix domain socket in the pool directory, mode 0600, that only root and the
 * daemon's own user may use (SO_PEERCRED, checked on every connection, since a mode can be changed). One thread per
 * client ({@link ClientThreads}), at most {@link #MAX_CLIENTS}; each reads request lines ({@link ControlProtocol})
 * and writes one reply per line, except {@code events}, which turns the connection into a stream of event lines
 * until the client goes.
 *
 * <p>A socket file left by a killed daemon is removed before binding: the caller holds the pool's lock, so no
 * live daemon can own it.
 */
public final class ControlServer implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    static final int MAX_CLIENTS = 32;
    /** How often an idle events stream looks whether its client is still there. */
    private static final long EVENTS_POLL_MS = 500;

    private final Path path;
    private final ControlHandler handler;
    private final EventHub events;
    private final Set<String> allowedUsers;
    private ClientThreads clients;
    private volatile boolean closed;

    private ControlServer(Path path, ControlHandler handler, EventHub events) {
        this.path = path;
        this.handler = handler;
        this.events = events;
        this.allowedUsers = new java.util.HashSet<>(java.util.List.of("root", System.getProperty("user.name")));
    }

    static ControlServer start(Path path, ControlHandler handler, EventHub events) throws IOException {
        Files.deleteIfExists(path); // a killed daemon's; see the class comment
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw new IOException("cannot make the control socket " + path + ": " + e.getMessage(), e);
        }
        ControlServer s = new ControlServer(path, handler, events);
        s.clients = ClientThreads.start(ch, "thinfs-control", MAX_CLIENTS, s::serve,
                c -> refuse(c, "too many control clients (" + MAX_CLIENTS + "); try again"));
        LOG.info("control socket listening on {}", path);
        return s;
    }

    private void serve(SocketChannel c) {
        try {
            String user = peerUser(c);
            if (user == null || !allowedUsers.contains(user)) {
                LOG.warn("control socket: refused a client running as {}", user);
                send(c, ControlProtocol.error("permission denied: only root and " + System.getProperty("user.name")
                        + " may use this pool's control socket"));
                return;
            }
            InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(c));
            while (!closed) {
                byte[] line = readLine(in);
                if (line == null) {
                    return;
                }
                if (line.length > ControlProtocol.MAX_LINE) {
                    send(c, ControlProtocol.error("request longer than " + ControlProtocol.MAX_LINE + " bytes"));
                    return;
                }
                JsonNode req;
                try {
                    req = ControlProtocol.JSON.readTree(new String(line, StandardCharsets.UTF_8));
                } catch (IOException e) {
                    send(c, ControlProtocol.error("the request is not valid JSON"));
                    continue;
                }
                if (req != null && req.isObject() && "events".equals(req.path("op").asText(null))
                        && req.path("version").asInt(-1) == ControlProtocol.VERSION) {
                    streamEvents(c);
                    return;
                }
                send(c, handler.handle(req));
            }
        } catch (IOException e) {
            LOG.debug("control client went away: {}", e.getMessage());
        }
    }

    /** Writes event lines until the client closes its end or the server stops. */
    private void streamEvents(SocketChannel c) throws IOException {
        EventHub.Subscription sub = events.subscribe();
        try {
            ObjectNode ok = ControlProtocol.ok();
            ok.put("streaming", true);
            send(c, ok);
            long reported = 0;
            while (!closed) {
                String line;
                try {
                    line = sub.lines.poll(EVENTS_POLL_MS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    return;
                }
                long dropped = sub.dropped.get();
                if (dropped > reported) {
                    sendLine(c, "{\"version\":1,\"event\":\"dropped\",\"count\":" + (dropped - reported)
                            + ",\"message\":\"events were lost: this client read too slowly\"}");
                    reported = dropped;
                }
                if (line != null) {
                    sendLine(c, line);
                } else if (peerClosed(c)) {
                    return;
                }
            }
        } finally {
            events.unsubscribe(sub);
        }
    }

    /** Whether the client shut its end (a non-blocking read sees end of stream); anything it sent is ignored. */
    private static boolean peerClosed(SocketChannel c) throws IOException {
        c.configureBlocking(false);
        try {
            ByteBuffer b = ByteBuffer.allocate(256);
            int n;
            while ((n = c.read(b)) > 0) {
                b.clear();
            }
            return n < 0;
        } finally {
            c.configureBlocking(true);
        }
    }

    /** One line without its newline; null at end of stream; a line past MAX_LINE is returned cut at MAX_LINE + 1. */
    private static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(256);
        int ch;
        while ((ch = in.read()) >= 0) {
            if (ch == '\n') {
                return b.toByteArray();
            }
            b.write(ch);
            if (b.size() > ControlProtocol.MAX_LINE) {
                return b.toByteArray();
            }
        }
        return b.size() == 0 ? null : b.toByteArray();
    }

    private static String peerUser(SocketChannel c) {
        try {
            UnixDomainPrincipal p = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
            return p.user().getName();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static void refuse(SocketChannel c, String why) {
        try (c) {
            send(c, ControlProtocol.error(why));
        } catch (IOException ignored) {
            // the client went first
        }
    }

    private static void send(SocketChannel c, ObjectNode reply) throws IOException {
        sendLine(c, reply.toString());
    }

    private static void sendLine(SocketChannel c, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    @Override
    public void close() {
        closed = true;
        clients.close(10_000);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", path, e.getMessage());
        }
    }
}
