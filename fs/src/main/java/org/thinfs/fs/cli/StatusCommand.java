package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.thinfs.fs.control.ControlClient;
import java.nio.file.Path;
import java.util.List;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.model.PoolSettings;
import org.thinfs.fs.model.PoolStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "status", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Show a pool's space, volumes and snapshots.",
        description = "Space used and free, volumes, snapshots and unnamed devices of a pool, its space policy and "
                + "its warnings. Live from the daemon when the pool is mounted; from the last commit when it is not.")
final class StatusCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Option(names = "--json", description = "Print JSON for scripts.")
    boolean json;

    @Option(names = "--prometheus", description = "Print the figures as Prometheus metrics (text format), e.g. for "
            + "node_exporter's textfile collector.")
    boolean prometheus;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        PoolStatus s = status(pool);
        if (prometheus) {
            System.out.flush();
            org.thinfs.fs.metrics.PoolMetrics.once(s, listing(pool)).writeText(System.out);
            System.out.flush();
            return 0;
        }
        if (json) {
            System.out.println(JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(s));
        } else {
            print(s);
            printSnapshotSpace(pool, s);
        }
        return 0;
    }

    /**
     * The snapshot sets' total: what removing every one of them would free (blocks no volume maps), from the last
     * commit, in two passes over the mappings (as thinfs snapshots per set).
     */
    private static void printSnapshotSpace(PoolDir pool, PoolStatus s) throws Exception {
        if (s.snapshots().isEmpty()) {
            return;
        }
        List<Long> ids = new java.util.ArrayList<>();
        s.snapshots().values().forEach(devices -> devices.forEach(d -> ids.add(d.id())));
        long alone = SnapshotsCommand.exclusiveBlocks(pool, Map.of("all", ids), true).get("all");
        int n = s.snapshots().size();
        System.out.printf("%nsnapshots   %d set%s hold%s %s that no volume maps (per set: thinfs snapshots POOL)%n",
                n, n == 1 ? "" : "s", n == 1 ? "s" : "", Sizes.human(alone * s.dataBlockSize()));
    }

    /** The live status from the daemon, or the last commit's from the files. */
    static PoolStatus status(PoolDir pool) throws Exception {
        try (ControlClient c = LivePool.connect(pool)) {
            if (c != null) {
                return JSON.treeToValue(c.call(ControlProtocol.request("status")).get("status"), PoolStatus.class);
            }
        }
        try (PoolFileSystem fs = Pools.openFileSystem(pool, true)) {
            return PoolStatus.of(fs, pool.dir().toAbsolutePath().toString(), false, false,
                    PoolSettings.read(pool.dir()), PoolSettings.readSchedule(pool.dir()), List.of());
        }
    }

    /** The volume listing (exclusive bytes): live from the daemon, or from the last commit. */
    static org.thinfs.fs.model.VolumeLifecycle.Listing listing(PoolDir pool) throws Exception {
        try (ControlClient c = LivePool.connect(pool)) {
            if (c != null) {
                return JSON.treeToValue(c.call(ControlProtocol.request("list")).get("list"),
                        org.thinfs.fs.model.VolumeLifecycle.Listing.class);
            }
        }
        try (PoolFileSystem fs = Pools.openFileSystem(pool, true)) {
            return fs.volumes().list();
        }
    }

    /** " (mounted on M, served over NBD at A; live, read-only)", or how the pool was left when not live. */
    private static String how(PoolStatus s) {
        if (!s.live()) {
            return DeadMounts.describe(Path.of(s.pool()));
        }
        List<String> ways = new java.util.ArrayList<>();
        for (String f : s.servedBy() == null ? List.<String>of() : s.servedBy()) {
            ways.add(f.startsWith("fuse ") ? "mounted on " + f.substring(5) : "served over NBD at " + f.substring(4));
        }
        if (ways.isEmpty()) {
            ways.add("mounted");
        }
        return " (" + String.join(", ", ways) + "; live" + (s.readOnly() != null ? ", read-only" : "") + ")";
    }

    private static void print(PoolStatus s) {
        long bs = s.dataBlockSize();
        System.out.printf("pool        %s%s%n", s.pool(), how(s));
        System.out.printf("transaction %d, snapshot time %d%s%n", s.transactionId(), s.time(),
                s.uncommittedChanges() ? ", uncommitted changes" : "");
        System.out.printf("data        %s used of %s (%d%%), %d blocks of %s%n", Sizes.human(s.dataBlocksUsed() * bs),
                Sizes.human(s.dataBlocks() * bs), percent(s.dataBlocksUsed(), s.dataBlocks()), s.dataBlocks(),
                Sizes.human(bs));
        System.out.printf("metadata    %s used of %s (%d%%)%s%n", Sizes.human(s.metadataBlocksUsed() * 4096),
                Sizes.human(s.metadataBlocks() * 4096), percent(s.metadataBlocksUsed(), s.metadataBlocks()),
                s.heldMetadataRoot() != 0 ? ", metadata snapshot held at block " + s.heldMetadataRoot() : "");
        PoolStatus.Settings p = s.settings();
        System.out.printf("policy      %s, when-full=%s%n", p.autoextendThreshold() >= 100 ? "autoextend off"
                : "autoextend at " + p.autoextendThreshold() + "% by " + p.autoextendPercent() + "%"
                + (p.autoextendMax() > 0 ? " up to " + Sizes.human(p.autoextendMax()) : ""), p.whenFull());
        if (!p.snapshotEvery().equals("off") || p.pruneAt() > 0) {
            System.out.printf("schedule    snapshots every %s, keep %s%s%n", p.snapshotEvery(), p.keep(),
                    p.pruneAt() > 0 ? ", prune at " + p.pruneAt() + "%" : "");
        }
        for (String w : s.warnings()) {
            System.out.println("warning     " + w);
        }
        System.out.printf("%nvolumes (%d)%n", s.volumes().size());
        table(s.volumes());
        for (Map.Entry<String, List<PoolStatus.Device>> e : s.snapshots().entrySet()) {
            System.out.printf("%nsnapshots/%s (%d)%n", e.getKey(), e.getValue().size());
            table(e.getValue());
        }
        if (!s.lostFound().isEmpty()) {
            System.out.printf("%nlost+found (%d): devices the metadata holds but no name points to%n",
                    s.lostFound().size());
            table(s.lostFound());
        }
    }

    private static void table(List<PoolStatus.Device> devices) {
        if (devices.isEmpty()) {
            return;
        }
        System.out.printf("  %-24s %6s %12s %12s%n", "NAME", "ID", "SIZE", "PROVISIONED");
        for (PoolStatus.Device d : devices) {
            System.out.printf("  %-24s %6d %12s %12s%n", d.name(), d.id(), Sizes.human(d.size()),
                    Sizes.human(d.provisionedBytes()));
        }
    }

    private static long percent(long a, long b) {
        return b == 0 ? 0 : a * 100 / b;
    }
}
