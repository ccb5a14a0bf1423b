package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.tools.GroupSpace;
import org.thinfs.core.tools.MetadataReader;
import org.thinfs.fs.model.Catalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "snapshots", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "List snapshot sets with the space each holds.",
        description = "Each set: when it was taken, its holds, its volumes, its description, and the space it alone "
                + "holds (data blocks no other device maps: what removing it frees, as zfs list -t snapshot USED). "
                + "Read from the last commit (a mounted pool commits every second), in two passes over the mappings.")
final class SnapshotsCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Option(names = "--json", description = "Print a JSON list for scripts.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        Catalog.Document doc;
        Map<String, Long> alone;
        long blockSize;
        long txid;
        try (FileBlockDevice dev = FileBlockDevice.open(pool.metadata(), false)) {
            var header = MetadataReader.open(dev, false).header();
            txid = header.transaction();
            blockSize = header.dataBlockSize() * 512L;       // in sectors, as thin_dump prints it
        }
        doc = Catalog.read(pool.dir(), txid);
        Map<String, List<Long>> groups = new LinkedHashMap<>();
        doc.snapshots.forEach((name, set) -> {
            List<Long> ids = new ArrayList<>();
            set.volumes.values().forEach(e -> ids.add(e.id));
            groups.put(name, ids);
        });
        alone = exclusiveBlocks(pool, groups, json);
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode list = mapper.createArrayNode();
        doc.snapshots.forEach((name, set) -> {
            ObjectNode o = list.addObject();
            o.put("name", name);
            o.put("created", Instant.ofEpochMilli(set.created).toString());
            o.put("description", set.description);
            o.put("type", set.type == null ? "manual" : set.type);
            if (set.pre != null) {
                o.put("pre", set.pre);
            }
            ArrayNode holds = o.putArray("holds");
            if (set.holds != null) {
                set.holds.forEach(holds::add);
            }
            ArrayNode vols = o.putArray("volumes");
            set.volumes.keySet().forEach(vols::add);
            o.put("exclusiveBytes", alone.get(name) * blockSize);
        });
        if (json) {
            System.out.println(mapper.writeValueAsString(list));
            return 0;
        }
        System.out.printf("%-24s %-20s %-6s %10s  %-16s %s%n", "NAME", "CREATED", "TYPE", "EXCLUSIVE", "HOLDS",
                "VOLUMES");
        list.forEach(o -> System.out.printf("%-24s %-20s %-6s %10s  %-16s %s%s%n", o.get("name").asText(),
                o.get("created").asText().replaceFirst("\\.\\d+Z$", "Z"), o.get("type").asText(), Sizes.human(o.get("exclusiveBytes").asLong()),
                o.get("holds").isEmpty() ? "-" : join(o.get("holds")), join(o.get("volumes")),
                (o.get("description").isNull() ? "" : "  (" + o.get("description").asText() + ")")
                        + (o.has("pre") ? "  (post of " + o.get("pre").asText() + ")" : "")));
        return 0;
    }

    /**
     * Per group of devices, the data blocks only its devices map (what removing them frees), from the last commit;
     * a progress bar on a terminal unless {@code quiet}. Shared by snapshots (per set) and status (all sets).
     */
    static Map<String, Long> exclusiveBlocks(PoolDir pool, Map<String, List<Long>> groups, boolean quiet)
            throws Exception {
        try (org.thinfs.core.io.BlockDevice dev = ProgressBar.wrap(FileBlockDevice.open(pool.metadata(), false),
                "counting", quiet)) {
            return GroupSpace.exclusiveBlocks(MetadataReader.open(dev, false), groups);
        }
    }

    /** The texts of a JSON array, joined by commas. */
    static String join(com.fasterxml.jackson.databind.JsonNode a) {
        List<String> s = new ArrayList<>();
        a.forEach(n -> s.add(n.asText()));
        return String.join(",", s);
    }
}
