package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.model.Catalog;
import org.thinfs.fs.model.PoolFileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;

/** Bookmarks, as zfs bookmark: what an incremental stream needs of a snapshot set, kept after the set is gone. */
final class BookmarkCommands {
    private BookmarkCommands() {
    }

    @Command(name = "bookmark", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Keep what incrementals from a snapshot set need, after the set is gone.",
            description = {"Records per volume of snapshots/SNAPSET the device it was taken of and the time, so "
                    + "'thinfs export-diff POOL #NAME/VOLUME B OUT' sends everything B wrote since, with the set "
                    + "removed. B must descend from the snapshot: a bookmark of a volume replaced or rolled back "
                    + "since is refused, never used. Committed before the command returns, mounted or not.",
                    "thinfs bookmark --delete POOL NAME removes a bookmark."})
    static final class Bookmark implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Parameters(index = "1", paramLabel = "SNAPSET|NAME", description = "The set (or, with --delete, the bookmark).")
        String set;
        @Parameters(index = "2", arity = "0..1", paramLabel = "NAME", description = "The bookmark's name (default: "
                + "the set's).")
        String name;
        @Option(names = "--delete", description = "Remove bookmark NAME.")
        boolean delete;

        @Override
        public Integer call() throws Exception {
            String n = delete ? set : name != null ? name : set;
            if (delete && name != null) {
                throw new Main.UsageError("thinfs bookmark --delete POOL NAME takes one name");
            }
            ObjectNode req = ControlProtocol.request("bookmark");
            req.put("name", n);
            req.put("set", set);
            req.put("delete", delete);
            PoolOps.run(Pools.requirePool(dir), req, fs -> {
                if (delete) {
                    fs.snapshots().deleteBookmark(n);
                } else {
                    fs.snapshots().bookmark(set, n);
                }
                return null;
            });
            System.out.println(delete ? "removed bookmark " + n : "bookmarked snapshots/" + set + " as #" + n);
            return 0;
        }
    }

    @Command(name = "bookmarks", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "List a pool's bookmarks.",
            description = "One line per bookmark: its name, the set it was made of, when, and its volumes.")
    static final class Bookmarks implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Option(names = "--json", description = "Print a JSON list for scripts.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PoolDir pool = Pools.requirePool(dir);
            Map<String, Catalog.Bookmark> marks;
            try (PoolFileSystem fs = Pools.openFileSystem(pool, true)) {
                marks = fs.snapshots().bookmarks();
            }
            ObjectMapper mapper = new ObjectMapper();
            ArrayNode list = mapper.createArrayNode();
            marks.forEach((n, b) -> {
                ObjectNode o = list.addObject();
                o.put("name", n);
                o.put("set", b.set);
                o.put("created", Instant.ofEpochMilli(b.created).toString());
                b.volumes.keySet().forEach(o.putArray("volumes")::add);
            });
            if (json) {
                System.out.println(mapper.writeValueAsString(list));
                return 0;
            }
            list.forEach(o -> System.out.printf("#%-23s %-24s %s  %s%n", o.get("name").asText(),
                    o.get("set").asText(), o.get("created").asText().replaceFirst("\\.\\d+Z$", "Z"),
                    SnapshotsCommand.join(o.get("volumes"))));
            return 0;
        }
    }
}
