package org.thinfs.fs.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.thinfs.core.pool.PoolEvent;
import org.thinfs.core.pool.PoolObserver;
import org.thinfs.fs.model.PoolStatus;
import org.thinfs.fs.model.VolumeLifecycle;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A pool's metrics in Prometheus' model (Prometheus' own Java client; the exposition format is the library's):
 * the gauges of {@link PoolGauges}, and for a running daemon the counters of what it did since it started: commits
 * and their duration, FUSE and NBD requests, bytes and errors by operation, time writers waited for space,
 * autoextensions and events. Served over HTTP by {@link #serve}, or written once by {@link #writeText}.
 */
public final class PoolMetrics {
    /** How long one scrape's figures are reused, so the gauges of one scrape read one status. */
    private static final long FIGURES_MS = 1000;
    /** How long the exclusive bytes are reused: counting them walks every mapping of the pool. */
    private static final long EXCLUSIVE_MS = 60_000;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final String pool;
    private Counter commits;
    private Histogram commitSeconds;
    private Counter waitSeconds;
    private Counter events;
    private Counter autoextends;
    private Front fuse;
    private Front nbd;

    private PoolMetrics(String pool) {
        this.pool = pool;
    }

    /** The gauges of the figures {@code status} and {@code listing} give now, for a one-time text. */
    public static PoolMetrics once(PoolStatus status, VolumeLifecycle.Listing listing) {
        PoolMetrics m = new PoolMetrics(status.pool());
        PoolGauges.Figures f = new PoolGauges.Figures(status, listing);
        PoolGauges.register(m.registry, () -> f);
        return m;
    }

    /**
     * A daemon's metrics: gauges from {@code status} and {@code listing} (memoized: see FIGURES_MS and
     * EXCLUSIVE_MS) and counters fed through {@link #observer}, {@link #event}, {@link #fuse} and {@link #nbd}.
     */
    public static PoolMetrics live(String pool, Supplier<PoolStatus> status, Supplier<VolumeLifecycle.Listing> listing) {
        PoolMetrics m = new PoolMetrics(pool);
        Memo<PoolStatus> s = new Memo<>(status, FIGURES_MS);
        Memo<VolumeLifecycle.Listing> l = new Memo<>(listing, EXCLUSIVE_MS);
        PoolGauges.register(m.registry, () -> new PoolGauges.Figures(s.get(), l.get()));
        m.commits = Counter.builder().name("thinfs_commits_total").help("Metadata commits.").labelNames("pool")
                .withoutExemplars().register(m.registry);
        m.commitSeconds = Histogram.builder().name("thinfs_commit_duration_seconds")
                .help("How long a metadata commit took, the wait for in-flight I/O included.").labelNames("pool")
                .classicOnly().classicUpperBounds(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
                .withoutExemplars().register(m.registry);
        m.waitSeconds = Counter.builder().name("thinfs_when_full_wait_seconds_total")
                .help("Time writers of a full pool were held (when-full=wait).").labelNames("pool")
                .withoutExemplars().register(m.registry);
        m.events = Counter.builder().name("thinfs_events_total").help("Pool events by kind (thinfs events).")
                .labelNames("pool", "event").withoutExemplars().register(m.registry);
        m.autoextends = Counter.builder().name("thinfs_autoextend_total")
                .help("Times a space was grown, by autoextend or a resize.").labelNames("pool", "space")
                .withoutExemplars().register(m.registry);
        m.fuse = new Front(m.registry, pool, "fuse", "FUSE");
        m.nbd = new Front(m.registry, pool, "nbd", "NBD");
        return m;
    }

    /**
     * A FUSE front's request counting into a registry of its own that nobody reads, for the warm-up
     * ({@code Warmup}): its requests run the same counting code the mount's do, so that code is compiled before a
     * user's first request. Without it, the counting method was compiled in the middle of a user's first mkfs.ext4
     * (-XX:+PrintCompilation, every one of five runs); in a traced mkfs, one FALLOCATE waited 0.7 ms while C1 ran.
     */
    public static RequestStats unreadFront() {
        return new Front(new PrometheusRegistry(), "warm-up", "fuse", "FUSE");
    }

    /** What the engine reports commits and waits to. */
    public PoolObserver observer() {
        CounterDataPoint c = commits.labelValues(pool);
        var h = commitSeconds.labelValues(pool);
        CounterDataPoint w = waitSeconds.labelValues(pool);
        return new PoolObserver() {
            @Override
            public void committed(long nanos) {
                c.inc();
                h.observe(nanos / 1e9);
            }

            @Override
            public void waitedForSpace(long nanos) {
                w.inc(nanos / 1e9);
            }
        };
    }

    /** Counts one pool event. */
    public void event(PoolEvent e) {
        events.labelValues(pool, e.kind().wire).inc();
        if (e.kind() == PoolEvent.Kind.EXTENDED && e.space() != null) {
            autoextends.labelValues(pool, e.space()).inc();
        }
    }

    public RequestStats fuse() {
        return fuse;
    }

    public RequestStats nbd() {
        return nbd;
    }

    /** The metrics in the Prometheus text format (version 0.0.4). */
    public void writeText(OutputStream out) throws IOException {
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
    }

    /** Serves the metrics at http://HOST:PORT/metrics until closed. */
    public HTTPServer serve(String host, int port) throws IOException {
        return HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
    }

    /** One front end's request, byte and error counters, their data points kept per operation. */
    private static final class Front implements RequestStats {
        private final Counter requests;
        private final Counter errors;
        private final Counter bytes;
        private final Counter spliced;
        private volatile CounterDataPoint splicedPoint;
        private final String pool;
        private final ConcurrentHashMap<String, CounterDataPoint[]> points = new ConcurrentHashMap<>();

        Front(PrometheusRegistry r, String pool, String prefix, String what) {
            this.pool = pool;
            requests = Counter.builder().name("thinfs_" + prefix + "_requests_total")
                    .help(what + " requests answered, by operation.").labelNames("pool", "op").withoutExemplars()
                    .register(r);
            errors = Counter.builder().name("thinfs_" + prefix + "_errors_total")
                    .help(what + " requests answered with an error, by operation.").labelNames("pool", "op")
                    .withoutExemplars().register(r);
            bytes = Counter.builder().name("thinfs_" + prefix + "_bytes_total")
                    .help("Bytes " + what + " reads and writes moved, by operation.").labelNames("pool", "op")
                    .withoutExemplars().register(r);
            // Only the FUSE front splices (SpliceReceiver); no series for a front that never could.
            spliced = !prefix.equals("fuse") ? null : Counter.builder().name("thinfs_fuse_spliced_bytes_total")
                    .help("Bytes of FUSE writes moved from the request into the data file by splice(2), not copied"
                            + " through the daemon.").labelNames("pool").withoutExemplars().register(r);
        }

        @Override
        public void spliced(long moved) {
            if (spliced == null) {
                return;
            }
            CounterDataPoint p = splicedPoint;
            if (p == null) {
                p = spliced.labelValues(pool);          // the same point on every call; a race only looks it up twice
                splicedPoint = p;
            }
            p.inc(moved);
        }

        @Override
        public void done(String op, long moved, boolean failed) {
            // get first: computeIfAbsent's capturing lambda is an allocation through a method handle per request
            // in the C1-compiled daemon (async-profiler, 4 KiB NBD writes)
            CounterDataPoint[] p = points.get(op);
            if (p == null) {
                p = points.computeIfAbsent(op, o -> new CounterDataPoint[] {
                        requests.labelValues(pool, o), errors.labelValues(pool, o), bytes.labelValues(pool, o)});
            }
            p[0].inc();
            if (failed) {
                p[1].inc();
            } else if (moved > 0) {
                p[2].inc(moved);
            }
        }
    }

    /** A value recomputed at most once per period. */
    private static final class Memo<T> {
        private final Supplier<T> source;
        private final long periodMs;
        private T value;
        private long at;

        Memo(Supplier<T> source, long periodMs) {
            this.source = source;
            this.periodMs = periodMs;
        }

        synchronized T get() {
            long now = System.currentTimeMillis();
            if (value == null || now - at >= periodMs) {
                value = source.get();
                at = now;
            }
            return value;
        }
    }
}
