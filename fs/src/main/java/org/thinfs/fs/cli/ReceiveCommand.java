package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.rbd.RbdImport;
import org.thinfs.fs.rbd.RbdReceive;
import org.thinfs.fs.rbd.RbdTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code thinfs receive rbd:RBDPOOL/IMAGE POOL VOLUME}: send in reverse. Every snapshot of the image newer than the
 * newest one VOLUME has as a snapshot set is exported ({@code rbd export-diff --from-snap}), spooled in the pool
 * directory (a stream has no checksum: it is read whole before anything changes) and applied as import-diff
 * --snapshot applies it, in order (RbdReceive), through the daemon when the pool is mounted or served.
 */
@Command(name = "receive", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Bring an RBD image's snapshots into a volume as snapshot sets.",
        description = "Imports every snapshot of the image that VOLUME lacks, oldest first, each as a snapshot set "
                + "of VOLUME (created when missing); zeros and bytes the volume already holds are not written. "
                + "Mounted pools receive through their daemon.")
final class ReceiveCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", paramLabel = "rbd:RBDPOOL/IMAGE")
    String source;
    @Parameters(index = "1", paramLabel = "POOL")
    Path dir;
    @Parameters(index = "2", paramLabel = "VOLUME")
    String volume;
    @Option(names = "--head", description = "Also bring the image's current state (after its last snapshot).")
    boolean head;
    @Option(names = "--force", description = "Roll VOLUME back to the common snapshot when it was written since.")
    boolean force;
    @Option(names = "--ceph-conf", paramLabel = "FILE", description = "The cluster's ceph.conf (passed to rbd).")
    String cephConf;
    @Option(names = "--id", paramLabel = "NAME", description = "The Ceph user, without 'client.' (passed to rbd).")
    String cephId;

    @Override
    public Integer call() throws Exception {
        try {
            RbdTool.image(source);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        PoolDir pool = Pools.requirePool(dir);
        ObjectNode req = ControlProtocol.request("receive");
        req.put("image", source);
        req.put("volume", volume);
        req.put("head", head);
        req.put("force", force);
        if (cephConf != null) {
            req.put("cephConf", Path.of(cephConf).toAbsolutePath().toString());
        }
        if (cephId != null) {
            req.put("id", cephId);
        }
        JsonNode r;
        try {
            r = PoolOps.run(pool, req, fs -> {
                RbdReceive.Result res = new RbdReceive(new RbdTool(cephConf, cephId), RbdTool.image(source), volume,
                        head, force, pool.dir()).run(fs, line -> System.err.println("thinfs receive: " + line));
                return JSON.valueToTree(res);
            });
        } catch (RbdImport.Refused e) {
            throw new Main.UsageError(e.getMessage());
        }
        int n = r.path("snapshots").size();
        System.out.printf("%s: %d snapshot%s received into %s%s%n", RbdTool.image(source), n, n == 1 ? "" : "s",
                volume, head ? ", and the head" : "");
        return 0;
    }
}
