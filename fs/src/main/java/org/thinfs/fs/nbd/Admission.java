package org.thinfs.fs.nbd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps any number of silent or slow clients from locking others out. Connections still negotiating have their
 * own small budget: when it is full, a new connection evicts the oldest unfinished one (an attacker who keeps
 * opening sockets only evicts his own, while a real client's negotiation takes milliseconds); a negotiation not
 * finished within the timeout is dropped. Connections past negotiation have their own cap, and the client past it
 * is told so in the negotiation (never silently queued). Closing a channel is how a connection is dropped: its
 * thread sees the failure and ends.
 */
final class Admission {
    private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

    private final NbdConfig config;
    /** In arrival order, so the first is the oldest. Guarded by this. */
    private final LinkedHashSet<SocketChannel> negotiating = new LinkedHashSet<>();
    /** Guarded by this. */
    private int established;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "thinfs-nbd-handshake-timer");
        t.setDaemon(true);
        return t;
    });

    Admission(NbdConfig config) {
        this.config = config;
    }

    int maxConnections() {
        return config.maxConnections();
    }

    /** A new connection starts negotiating (see the class comment for what it may evict). */
    void arrive(SocketChannel c) {
        SocketChannel evicted = null;
        synchronized (this) {
            if (negotiating.size() >= config.maxHandshakes()) {
                Iterator<SocketChannel> oldest = negotiating.iterator();
                evicted = oldest.next();
                oldest.remove();
            }
            negotiating.add(c);
        }
        if (evicted != null) {
            LOG.warn("nbd: {} connections still negotiating: dropped the oldest", config.maxHandshakes());
            close(evicted);
        }
        timer.schedule(() -> expire(c), config.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void expire(SocketChannel c) {
        synchronized (this) {
            if (!negotiating.remove(c)) {
                return;
            }
        }
        LOG.info("nbd: dropped a connection that did not finish negotiating in {} s",
                config.handshakeTimeout().toSeconds());
        close(c);
    }

    /**
     * The connection finished negotiating: true when it takes a connection slot; false when it was dropped
     * meanwhile or every slot is taken (the caller tells the client and closes).
     */
    synchronized boolean establish(SocketChannel c) {
        if (!negotiating.remove(c) || established >= config.maxConnections()) {
            return false;
        }
        established++;
        return true;
    }

    /** The connection ended; {@code wasEstablished}: {@link #establish} had given it a slot. */
    synchronized void leave(SocketChannel c, boolean wasEstablished) {
        negotiating.remove(c);
        if (wasEstablished) {
            established--;
        }
    }

    void close() {
        timer.shutdownNow();
    }

    private static void close(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // dropped anyway
        }
    }
}
