package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.Catalog;
import org.thinfs.fs.model.PoolFileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "status", mixinStandardHelpOptions = true,
        header = "Show a pool's space, volumes and snapshots.",
        description = {"Space used and free, volumes, snapshots and unnamed devices of a pool, as of its last commit.",
                "Works on a mounted pool too (reads the metadata read-only)."})
final class StatusCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Option(names = "--json", description = "Print JSON for scripts.")
    boolean json;

    /** One thin device as reported. */
    record Device(String name, long id, long size, long provisionedBytes, long mappedBlocks, long transaction,
                  int creationTime, int snapTime) {
    }

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        Map<String, Object> out = new LinkedHashMap<>();
        try (PoolFileSystem fs = Pools.openFileSystem(pool, true)) {
            ThinPool tp = fs.pool();
            PoolUsage u = tp.usage();
            out.put("pool", pool.dir().toAbsolutePath().toString());
            out.put("mounted", java.nio.file.Files.isRegularFile(pool.dir().resolve("thinfs.pid")));
            out.put("transactionId", u.transactionId());
            out.put("time", u.time());
            out.put("dataBlockSize", u.dataBlockSize());
            out.put("dataBlocks", u.dataBlocks());
            out.put("dataBlocksUsed", u.dataBlocksUsed());
            out.put("metadataBlocks", u.metadataBlocks());
            out.put("metadataBlocksUsed", u.metadataBlocksUsed());
            Catalog.Document doc = fs.catalog();
            List<Device> volumes = new ArrayList<>();
            doc.volumes.forEach((name, e) -> volumes.add(device(tp, name, e)));
            out.put("volumes", volumes);
            Map<String, List<Device>> snaps = new LinkedHashMap<>();
            doc.snapshots.forEach((set, s) -> {
                List<Device> l = new ArrayList<>();
                s.volumes.forEach((name, e) -> l.add(device(tp, name, e)));
                snaps.put(set, l);
            });
            out.put("snapshots", snaps);
            List<Device> lost = new ArrayList<>();
            fs.lostDevices().forEach((id, e) -> lost.add(device(tp, "lost+found/dev-" + id, e)));
            out.put("lostFound", lost);
            if (json) {
                System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(out));
            } else {
                print(out, u, volumes, snaps, lost);
            }
        }
        return 0;
    }

    private static Device device(ThinPool tp, String name, Catalog.Entry e) {
        DeviceDetails d = tp.details(e.id);
        return new Device(name, e.id, e.size, d.mappedBlocks() * tp.dataBlockSize(), d.mappedBlocks(),
                d.transactionId(), d.creationTime(), d.snapshottedTime());
    }

    private static void print(Map<String, Object> out, PoolUsage u, List<Device> volumes,
                              Map<String, List<Device>> snaps, List<Device> lost) {
        long bs = u.dataBlockSize();
        System.out.printf("pool        %s%s%n", out.get("pool"), Boolean.TRUE.equals(out.get("mounted"))
                ? " (mounted; figures as of the last commit)" : "");
        System.out.printf("transaction %d, snapshot time %d%n", u.transactionId(), u.time());
        System.out.printf("data        %s used of %s (%d%%), %d blocks of %s%n", Sizes.human(u.dataBlocksUsed() * bs),
                Sizes.human(u.dataBlocks() * bs), percent(u.dataBlocksUsed(), u.dataBlocks()), u.dataBlocks(),
                Sizes.human(bs));
        System.out.printf("metadata    %s used of %s (%d%%)%n", Sizes.human(u.metadataBlocksUsed() * 4096),
                Sizes.human(u.metadataBlocks() * 4096), percent(u.metadataBlocksUsed(), u.metadataBlocks()));
        System.out.printf("%nvolumes (%d)%n", volumes.size());
        table(volumes);
        for (Map.Entry<String, List<Device>> s : snaps.entrySet()) {
            System.out.printf("%nsnapshots/%s (%d)%n", s.getKey(), s.getValue().size());
            table(s.getValue());
        }
        if (!lost.isEmpty()) {
            System.out.printf("%nlost+found (%d): devices the metadata holds but no name points to%n", lost.size());
            table(lost);
        }
    }

    private static void table(List<Device> devices) {
        if (devices.isEmpty()) {
            return;
        }
        System.out.printf("  %-24s %6s %12s %12s%n", "NAME", "ID", "SIZE", "PROVISIONED");
        for (Device d : devices) {
            System.out.printf("  %-24s %6d %12s %12s%n", d.name(), d.id(), Sizes.human(d.size()),
                    Sizes.human(d.provisionedBytes()));
        }
    }

    private static long percent(long a, long b) {
        return b == 0 ? 0 : a * 100 / b;
    }
}
