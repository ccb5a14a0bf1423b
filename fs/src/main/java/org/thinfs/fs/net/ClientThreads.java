package org.thinfs.fs.net;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

/**
 * The accept loop of a daemon's sockets (control, NBD): one thread per client, at most {@code max} at once (the
 * next is handed to {@code refuse}, which answers and closes it); {@link #close} stops listening, closes every
 * client and waits for their threads, so nothing is still calling the pool when the caller closes it.
 */
public final class ClientThreads {
    private static final Logger LOG = LoggerFactory.getLogger(ClientThreads.class);

    private final ServerSocketChannel server;
    private final String name;
    private final Semaphore slots;
    private final Consumer<SocketChannel> serve;
    private final Consumer<SocketChannel> refuse;
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ClientThreads(ServerSocketChannel server, String name, int max, Consumer<SocketChannel> serve,
                          Consumer<SocketChannel> refuse) {
        this.server = server;
        this.name = name;
        this.slots = new Semaphore(max);
        this.serve = serve;
        this.refuse = refuse;
    }

    /** Starts accepting on {@code server}; each client runs {@code serve} on its own thread named {@code name}. */
    public static ClientThreads start(ServerSocketChannel server, String name, int max, Consumer<SocketChannel> serve,
                                      Consumer<SocketChannel> refuse) {
        ClientThreads t = new ClientThreads(server, name, max, serve, refuse);
        Thread acceptor = new Thread(t::acceptLoop, name);
        acceptor.setDaemon(true);
        acceptor.start();
        return t;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("{}: accept failed: {}", name, e.getMessage());
                }
                return;
            }
            if (!slots.tryAcquire()) {
                refuse.accept(c);
                continue;
            }
            clients.add(c);
            Thread t = new Thread(() -> {
                try (c) {
                    serve.accept(c);
                } catch (IOException ignored) {
                    // closing a client that has gone
                } finally {
                    clients.remove(c);
                    threads.remove(Thread.currentThread());
                    slots.release();
                }
            }, name + "-client");
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Stops listening, closes every client, waits up to {@code joinMillis} for each client's thread. */
    public void close(long joinMillis) {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (SocketChannel c : clients) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        for (Thread t : threads) {
            try {
                t.join(joinMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
