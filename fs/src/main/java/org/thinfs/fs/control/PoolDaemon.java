package org.thinfs.fs.control;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.AutoExtender;
import org.thinfs.core.pool.SpacePolicy;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.model.PoolSettings;
import org.thinfs.fs.nbd.NbdServer;
import org.thinfs.fs.metrics.PoolMetrics;
import org.thinfs.fs.model.PoolStatus;
import org.thinfs.core.pool.PoolEvent;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What a pool's daemon runs beside its front ends (the FUSE mount): the space policy with autoextend, the event
 * stream and the control socket. Started after the pool is open and closed before it is.
 */
public final class PoolDaemon implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(PoolDaemon.class);
    /** How often the spaces are looked at for autoextend (a writer that finds the pool full asks at once). */
    private static final long CHECK_MS = 250;

    private final ThinPool pool;
    private final ScheduledExecutorService timer;
    private final ScheduledExecutorService snapshots;
    private final ControlServer server;
    private final List<NbdServer> nbd = new ArrayList<>();

    private PoolDaemon(ThinPool pool, ScheduledExecutorService timer, ScheduledExecutorService snapshots,
                       ControlServer server, List<String> servedBy, PoolMetrics metrics) {
        this.metrics = metrics;
        this.snapshots = snapshots;
        this.servedBy = servedBy;
        this.pool = pool;
        this.timer = timer;
        this.server = server;
    }

    /**
     * Serves NBD on each of {@code addresses} too (see NbdServer); on a failure the ones started are stopped and
     * the error says which address.
     */
    public void serveNbd(PoolFileSystem fs, List<String> addresses) throws IOException {
        serveNbd(fs, addresses, org.thinfs.fs.nbd.NbdConfig.DEFAULTS);
    }

    /** As above, with {@code config}'s TLS, exports and limits. */
    public void serveNbd(PoolFileSystem fs, List<String> addresses, org.thinfs.fs.nbd.NbdConfig config)
            throws IOException {
        for (String a : addresses) {
            try {
                NbdServer server = NbdServer.start(a, fs, metrics.nbd(), config);
                nbd.add(server);
                servedBy.add("nbd " + server.describe(a));
            } catch (IOException | RuntimeException e) {
                nbd.forEach(NbdServer::close);
                nbd.clear();
                throw new IOException("cannot serve NBD on " + a + ": " + e.getMessage(), e);
            }
        }
    }

    private final PoolMetrics metrics;
    private io.prometheus.metrics.exporter.httpserver.HTTPServer metricsServer;

    /** The daemon's metrics: the FUSE front end counts its requests in {@code metrics().fuse()}. */
    public PoolMetrics metrics() {
        return metrics;
    }

    /**
     * Serves the metrics at http://ADDRESS/metrics: {@code PORT} (loopback only) or {@code HOST:PORT}; a bad
     * address or a port in use is one sentence.
     */
    public void serveMetrics(String address) throws IOException {
        int colon = address.lastIndexOf(':');
        String host = colon < 0 ? "127.0.0.1" : address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535 || host.isEmpty()) {
            throw new IllegalArgumentException("--metrics takes PORT or HOST:PORT, not '" + address + "'");
        }
        try {
            metricsServer = metrics.serve(host, port);
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot serve metrics on " + address + ": " + e.getMessage(), e);
        }
        LOG.info("metrics: serving http://{}:{}/metrics", host, metricsServer.getPort());
    }

    /** How the pool is reached while this daemon runs ("fuse MOUNTPOINT", "nbd ADDRESS"), for status. */
    private final List<String> servedBy;

    /** Records a front end for status: "fuse MOUNTPOINT" or "nbd ADDRESS". */
    public void servedBy(String frontEnd) {
        servedBy.add(frontEnd);
    }

    /** Starts serving pool directory {@code dir}'s open file system {@code fs}. */
    public static PoolDaemon start(Path dir, PoolFileSystem fs, Path dataFile) throws IOException {
        ThinPool tp = fs.pool();
        fs.ensureUuid();
        SpacePolicy policy = PoolSettings.read(dir);
        EventHub hub = new EventHub();
        List<String> servedBy = new java.util.concurrent.CopyOnWriteArrayList<>();
        AutoExtender extender = new AutoExtender(tp, AutoExtender.hostFreeOf(dataFile, tp), policy);
        SnapshotScheduler[] late = new SnapshotScheduler[1];
        String name = dir.toAbsolutePath().toString();
        PoolMetrics metrics = PoolMetrics.live(name, () -> PoolStatus.of(fs, name, true, true, extender.policy(),
                late[0].schedule(), List.copyOf(servedBy)), () -> fs.volumes().list());
        java.util.function.Consumer<PoolEvent> events = e -> {
            metrics.event(e);
            hub.publish(e);
        };
        SnapshotScheduler scheduler = new SnapshotScheduler(fs, PoolSettings.readSchedule(dir), events,
                java.time.Clock.systemDefaultZone());
        late[0] = scheduler;
        tp.setEventListener(events);
        tp.setObserver(metrics.observer());
        tp.setFullHandler(extender);
        ControlServer server;
        try {
            server = ControlServer.start(dir.resolve(ControlProtocol.SOCKET),
                    new ControlHandler(fs, dir, extender, scheduler, servedBy), hub);
        } catch (IOException e) {
            tp.setFullHandler(since -> false);
            throw e;
        }
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "thinfs-autoextend");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                extender.check();
            } catch (RuntimeException e) {
                LOG.warn("space check failed: {}", e.getMessage());
            }
        }, 0, CHECK_MS, TimeUnit.MILLISECONDS);
        // Its own thread: a snapshot or a prune must not hold up the space checks that a full pool waits on.
        ScheduledExecutorService snapshots = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "thinfs-snapshot-schedule");
            t.setDaemon(true);
            return t;
        });
        snapshots.scheduleWithFixedDelay(scheduler::tick, 1, 1, TimeUnit.SECONDS);
        LOG.info("space policy: {}", policy);
        return new PoolDaemon(tp, timer, snapshots, server, servedBy, metrics);
    }

    @Override
    public void close() {
        if (metricsServer != null) {
            metricsServer.close();
        }
        nbd.forEach(NbdServer::close);
        server.close();
        timer.shutdown();
        snapshots.shutdown();
        try {
            timer.awaitTermination(30, TimeUnit.SECONDS); // an extension in flight finishes before the pool closes
            snapshots.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.setFullHandler(since -> false);
        pool.setObserver(org.thinfs.core.pool.PoolObserver.NONE);
    }
}
