package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlProtocol;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;

/** Holds on snapshot sets, as zfs hold/release/holds: a held set cannot be removed. */
final class HoldCommands {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private HoldCommands() {
    }

    /** hold and release: one request shape, mounted or not. */
    private static void change(Path dir, String op, String set, String tag) throws Exception {
        ObjectNode req = ControlProtocol.request(op);
        req.put("set", set);
        req.put("tag", tag);
        PoolOps.run(Pools.requirePool(dir), req, fs -> {
            if (op.equals("hold")) {
                fs.snapshots().hold(set, tag);
            } else {
                fs.snapshots().release(set, tag);
            }
            return null;
        });
    }

    @Command(name = "hold", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Keep a snapshot set from being removed.",
            description = "Adds hold TAG to snapshots/SNAPSET: removing the set or any of its volumes (rm, rmdir, mv, "
                    + "pruning) is refused with EBUSY until every hold is released. Committed before the command "
                    + "returns, mounted or not.")
    static final class Hold implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Parameters(index = "1", paramLabel = "SNAPSET")
        String set;
        @Parameters(index = "2", paramLabel = "TAG", description = "Who holds it (a word, e.g. the replication job).")
        String tag;

        @Override
        public Integer call() throws Exception {
            change(dir, "hold", set, tag);
            System.out.println("snapshots/" + set + " held by " + tag);
            return 0;
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Release a hold on a snapshot set.",
            description = "Removes hold TAG from snapshots/SNAPSET; once no hold is left the set can be removed.")
    static final class Release implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Parameters(index = "1", paramLabel = "SNAPSET")
        String set;
        @Parameters(index = "2", paramLabel = "TAG")
        String tag;

        @Override
        public Integer call() throws Exception {
            change(dir, "release", set, tag);
            System.out.println("released hold " + tag + " on snapshots/" + set);
            return 0;
        }
    }

    @Command(name = "holds", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "List the holds on a pool's snapshot sets.",
            description = "One line per held set: the set and its tags.")
    static final class Holds implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Option(names = "--json", description = "Print {SNAPSET: [TAG...]} for scripts.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode r = PoolOps.run(Pools.requirePool(dir), ControlProtocol.request("holds"), fs -> {
                ObjectNode o = JSON.createObjectNode();
                o.set("holds", JSON.valueToTree(fs.snapshots().holds()));
                return o;
            });
            JsonNode holds = r.path("holds");
            if (json) {
                System.out.println(JSON.writeValueAsString(holds));
                return 0;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = holds.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                StringBuilder tags = new StringBuilder();
                e.getValue().forEach(t -> tags.append(tags.length() == 0 ? "" : " ").append(t.asText()));
                System.out.printf("%-24s %s%n", e.getKey(), tags);
            }
            return 0;
        }
    }
}
