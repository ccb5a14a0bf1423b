package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.model.Retention;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.time.ZoneId;
import java.util.concurrent.Callable;

@Command(name = "prune", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Remove the snapshot sets a retention policy does not keep.",
        description = "Keeps the N newest sets (last=N) and, for each of hourly, daily, weekly (ISO weeks), monthly "
                + "and yearly, the newest set of each of the N most recent periods that have one (snapper's timeline "
                + "cleanup, in the local time zone); removes the other sets matching --match. Held sets are never "
                + "removed. Committed before the command returns, mounted or not.")
final class PruneCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Option(names = "--keep", required = true, paramLabel = "RULE=N,...",
            description = "Any of last=N, hourly=N, daily=N, weekly=N, monthly=N, yearly=N, joined by commas.")
    String keep;

    @Option(names = "--match", defaultValue = "*", paramLabel = "GLOB",
            description = "Only sets whose name matches (default: every set), e.g. 'auto-*'.")
    String match;

    @Option(names = "--dry-run", description = "Say what would be removed; remove nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print {removed: [...], held: [...]} for scripts.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Retention policy;
        try {
            policy = Retention.parse(keep);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        ObjectNode req = ControlProtocol.request("prune");
        req.put("keep", keep);
        req.put("match", match);
        req.put("dryRun", dryRun);
        ObjectMapper mapper = new ObjectMapper();
        JsonNode r = PoolOps.run(Pools.requirePool(dir), req, fs -> {
            var plan = fs.snapshots().prune(policy, match, dryRun, ZoneId.systemDefault());
            ObjectNode o = mapper.createObjectNode();
            plan.remove().forEach(o.putArray("removed")::add);
            plan.held().forEach(o.putArray("held")::add);
            return o;
        });
        ObjectNode out = mapper.createObjectNode();
        out.set("removed", r.has("removed") ? r.get("removed") : mapper.createArrayNode());
        out.set("held", r.has("held") ? r.get("held") : mapper.createArrayNode());
        out.put("dryRun", dryRun);
        if (json) {
            System.out.println(mapper.writeValueAsString(out));
            return 0;
        }
        String verb = dryRun ? "would remove" : "removed";
        out.get("removed").forEach(n -> System.out.println(verb + " snapshots/" + n.asText()));
        out.get("held").forEach(n -> System.out.println("kept snapshots/" + n.asText() + " (held)"));
        if (out.get("removed").isEmpty()) {
            System.out.println("nothing to prune");
        }
        return 0;
    }
}
