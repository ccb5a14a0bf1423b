package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlClient;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.model.PoolFileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "snapshot", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Take a snapshot set of a pool's volumes.",
        description = "The same atomic snapshot set as 'mkdir snapshots/NAME' in the mount: of every volume, or only "
                + "of the volumes named. Committed before the command returns, mounted or not.")
final class SnapshotCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Parameters(index = "1", paramLabel = "NAME", description = "Name of the set (snapshots/NAME).")
    String name;

    @Parameters(index = "2..*", paramLabel = "VOLUME", description = "Volumes to take (default: all).")
    List<String> volumes = new ArrayList<>();

    @picocli.CommandLine.Option(names = "--description", paramLabel = "TEXT",
            description = "What the set is for; 'thinfs snapshots' shows it.")
    String description;

    @picocli.CommandLine.Option(names = "--pre", description = "A pre set, before a change (snapper's pre/post pairs).")
    boolean pre;

    @picocli.CommandLine.Option(names = "--post", paramLabel = "PRE",
            description = "A post set, after the change that pre set PRE was taken before.")
    String post;

    @Override
    public Integer call() throws Exception {
        if (pre && post != null) {
            throw new Main.UsageError("a set is --pre or --post, not both");
        }
        String type = pre ? "pre" : post != null ? "post" : null;
        PoolDir pool = Pools.requirePool(dir);
        try (ControlClient c = LivePool.connect(pool)) {
            if (c != null) {
                ObjectNode req = ControlProtocol.request("snapshot");
                req.put("name", name);
                volumes.forEach(req.putArray("volumes")::add);
                if (description != null) {
                    req.put("description", description);
                }
                if (type != null) {
                    req.put("type", type);
                    req.put("pre", post);
                }
                c.call(req);
            } else {
                LivePool.offline(pool, () -> {
                    try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
                        fs.snapshots().take(name, volumes, description, type, post);
                    }
                });
            }
        }
        System.out.println("took snapshots/" + name + (volumes.isEmpty() ? " of every volume" : " of "
                + String.join(", ", volumes)));
        return 0;
    }
}
