package org.thinfs.fs.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.PoolEvent;

import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Hands each pool event to the log and to every {@code thinfs events} client. {@link #publish} never blocks (it may
 * run under the pool's locks): each subscriber has a bounded queue, and a subscriber too slow to keep up loses
 * events and is told how many in its next line.
 */
final class EventHub {
    private static final Logger LOG = LoggerFactory.getLogger(EventHub.class);
    static final int QUEUE = 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One client's queue of JSON lines. */
    static final class Subscription {
        final BlockingQueue<String> lines = new ArrayBlockingQueue<>(QUEUE);
        final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
    }

    private final CopyOnWriteArrayList<Subscription> subscribers = new CopyOnWriteArrayList<>();

    void publish(PoolEvent e) {
        LOG.info("event {}: {}", e.kind().wire, e.message());
        String line = line(e);
        for (Subscription s : subscribers) {
            if (!s.lines.offer(line)) {
                s.dropped.incrementAndGet();
            }
        }
    }

    Subscription subscribe() {
        Subscription s = new Subscription();
        subscribers.add(s);
        return s;
    }

    void unsubscribe(Subscription s) {
        subscribers.remove(s);
    }

    static String line(PoolEvent e) {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", ControlProtocol.VERSION);
        n.put("event", e.kind().wire);
        n.put("time", Instant.now().toString());
        if (e.space() != null) {
            n.put("space", e.space());
            n.put("used", e.used());
            n.put("total", e.total());
        }
        n.put("message", e.message());
        return n.toString();
    }
}
