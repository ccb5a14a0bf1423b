package org.thinfs.fs.metrics;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.thinfs.fs.model.PoolStatus;
import org.thinfs.fs.model.VolumeLifecycle;

import java.util.function.Supplier;

/**
 * The pool's state as Prometheus gauges, read at scrape time from {@link Figures}: space used and total, each
 * volume's virtual, mapped and exclusive bytes, snapshot sets, the held metadata snapshot, the transaction id and the
 * read-only and needs-check flags. Every series carries the pool's directory as label {@code pool}, so one
 * textfile collector or one Prometheus can watch several pools. Shared by {@code thinfs status --prometheus} (the
 * figures of the moment, once) and the daemon's endpoint (figures per scrape).
 */
final class PoolGauges {
    /** What one scrape reports: the status, and the listing that carries each volume's exclusive bytes. */
    record Figures(PoolStatus status, VolumeLifecycle.Listing listing) {
    }

    private PoolGauges() {
    }

    static void register(PrometheusRegistry registry, Supplier<Figures> figures) {
        gauge(registry, "thinfs_data_used_bytes", "Data space in use.", figures,
                (f, cb) -> cb.call(f.status().dataBlocksUsed() * f.status().dataBlockSize(), pool(f)));
        gauge(registry, "thinfs_data_size_bytes", "Data space in all.", figures,
                (f, cb) -> cb.call(f.status().dataBlocks() * f.status().dataBlockSize(), pool(f)));
        gauge(registry, "thinfs_metadata_used_bytes", "Metadata space in use.", figures,
                (f, cb) -> cb.call(f.status().metadataBlocksUsed() * 4096.0, pool(f)));
        gauge(registry, "thinfs_metadata_size_bytes", "Metadata space in all.", figures,
                (f, cb) -> cb.call(f.status().metadataBlocks() * 4096.0, pool(f)));
        gauge(registry, "thinfs_data_block_size_bytes", "Size of one data block.", figures,
                (f, cb) -> cb.call(f.status().dataBlockSize(), pool(f)));
        gauge(registry, "thinfs_transaction_id", "Transaction id of the last commit.", figures,
                (f, cb) -> cb.call(f.status().transactionId(), pool(f)));
        gauge(registry, "thinfs_snapshot_sets", "Snapshot sets.", figures,
                (f, cb) -> cb.call(f.status().snapshots().size(), pool(f)));
        gauge(registry, "thinfs_volumes", "Volumes (snapshot volumes not counted).", figures,
                (f, cb) -> cb.call(f.status().volumes().size(), pool(f)));
        gauge(registry, "thinfs_metadata_snapshot_held", "1 while a metadata snapshot is held (thin_dump -m).",
                figures, (f, cb) -> cb.call(f.status().heldMetadataRoot() != 0 ? 1 : 0, pool(f)));
        gauge(registry, "thinfs_read_only", "1 when the pool refuses changes.", figures,
                (f, cb) -> cb.call(f.status().readOnly() != null ? 1 : 0, pool(f)));
        gauge(registry, "thinfs_needs_check", "1 when the metadata is flagged NEEDS_CHECK.", figures,
                (f, cb) -> cb.call(f.status().needsCheck() ? 1 : 0, pool(f)));
        volumeGauge(registry, "thinfs_volume_virtual_bytes", "A volume's virtual size.", figures,
                (f, cb) -> f.status().volumes().forEach(v -> cb.call(v.size(), pool(f), v.name())));
        volumeGauge(registry, "thinfs_volume_mapped_bytes", "Bytes a volume maps (provisioned).", figures,
                (f, cb) -> f.status().volumes().forEach(v -> cb.call(v.provisionedBytes(), pool(f), v.name())));
        volumeGauge(registry, "thinfs_volume_exclusive_bytes",
                "Bytes only this volume maps: what deleting it frees.", figures,
                (f, cb) -> f.listing().volumes().forEach(v -> cb.call(v.exclusiveBytes(), pool(f), v.name())));
    }

    private interface Reading {
        void read(Figures f, GaugeWithCallback.Callback cb);
    }

    private static void gauge(PrometheusRegistry r, String name, String help, Supplier<Figures> figures, Reading how) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("pool")
                .callback(cb -> how.read(figures.get(), cb)).register(r);
    }

    private static void volumeGauge(PrometheusRegistry r, String name, String help, Supplier<Figures> figures,
                                    Reading how) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("pool", "volume")
                .callback(cb -> how.read(figures.get(), cb)).register(r);
    }

    private static String pool(Figures f) {
        return f.status().pool();
    }
}
