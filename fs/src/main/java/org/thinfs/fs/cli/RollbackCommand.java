package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlProtocol;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "rollback", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Roll volumes back to a snapshot set, in place.",
        description = "Each volume (every volume of the set unless some are named) gets the snapshot's bytes and size "
                + "in place: same name, same device id, blocks written since freed; open readers and NBD clients "
                + "read the snapshot's bytes next. The snapshot set stays. A volume open for writing is refused "
                + "unless --force. Committed before the command returns, mounted or not.")
final class RollbackCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Parameters(index = "1", paramLabel = "SNAPSET", description = "The snapshot set (snapshots/SNAPSET).")
    String set;

    @Parameters(index = "2..*", paramLabel = "VOLUME", description = "Volumes to roll back (default: all of the set).")
    List<String> volumes = new ArrayList<>();

    @Option(names = "--force", description = "Roll back volumes open for writing too.")
    boolean force;

    @Option(names = "--snapshot", paramLabel = "NAME",
            description = "First keep the current state as snapshot set NAME (to undo the rollback).")
    String keepAs;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        ObjectNode req = ControlProtocol.request("rollback");
        req.put("set", set);
        volumes.forEach(req.putArray("volumes")::add);
        req.put("force", force);
        if (keepAs != null) {
            req.put("snapshot", keepAs);
        }
        PoolOps.run(pool, req, fs -> {
            fs.snapshots().rollback(set, volumes, force, keepAs);
            return null;
        });
        System.out.println((keepAs != null ? "kept the current state as snapshots/" + keepAs + "; " : "")
                + "rolled " + (volumes.isEmpty() ? "every volume of snapshots/" + set : String.join(", ", volumes))
                + " back to snapshots/" + set);
        return 0;
    }
}
