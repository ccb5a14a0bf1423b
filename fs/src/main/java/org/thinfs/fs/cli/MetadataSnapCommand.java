package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlClient;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.model.PoolFileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "metadata-snap", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Hold or release the pool's metadata snapshot.",
        description = "hold: keep a copy of the committed metadata that 'thin_dump -m POOL/metadata' and "
                + "'thinfs dump -m POOL' read while the pool goes on working (dm-thin's reserve_metadata_snap); "
                + "it survives remounts. release: drop it (release_metadata_snap). Mounted or not.")
final class MetadataSnapCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Parameters(index = "1", paramLabel = "hold|release")
    String action;

    @Override
    public Integer call() throws Exception {
        if (!action.equals("hold") && !action.equals("release")) {
            throw new Main.UsageError("say 'hold' or 'release', not '" + action + "'");
        }
        PoolDir pool = Pools.requirePool(dir);
        long[] root = new long[1];
        try (ControlClient c = LivePool.connect(pool)) {
            if (c != null) {
                ObjectNode req = ControlProtocol.request("metadata-snap");
                req.put("action", action);
                root[0] = c.call(req).path("heldMetadataRoot").asLong();
            } else {
                LivePool.offline(pool, () -> {
                    try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
                        if (action.equals("hold")) {
                            fs.holdMetadataSnapshot();
                        } else {
                            fs.releaseMetadataSnapshot();
                        }
                        root[0] = fs.pool().transaction().heldMetadataRoot();
                    }
                });
            }
        }
        System.out.println(action.equals("hold") ? "metadata snapshot held at block " + root[0]
                + "; read it with 'thin_dump -m " + pool.metadata() + "'" : "metadata snapshot released");
        return 0;
    }
}
