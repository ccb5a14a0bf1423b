package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.core.format.Layout;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.control.ControlClient;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.model.PoolStatus;
import org.thinfs.fs.model.SpaceResize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "resize", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Grow a pool's data or metadata space.",
        description = "Grow a pool's data or metadata space, mounted or not; done (and committed) when the command "
                + "returns. Shrinking is refused: blocks past the end may be in use.")
final class ResizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Option(names = "--data", converter = Sizes.class, description = "New data size.")
    Long dataSize;

    @Option(names = "--metadata", converter = Sizes.class, description = "New metadata size.")
    Long metadataSize;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        if (dataSize == null && metadataSize == null) {
            throw new Main.UsageError("give --data SIZE or --metadata SIZE");
        }
        try (ControlClient c = LivePool.connect(pool)) {
            if (c != null) {
                ObjectNode req = ControlProtocol.request("resize");
                if (dataSize != null) {
                    req.put("data", dataSize);
                }
                if (metadataSize != null) {
                    req.put("metadata", metadataSize);
                }
                c.call(req);
                PoolStatus s = StatusCommand.status(pool);
                print(s.dataBlocks(), s.dataBlockSize(), s.metadataBlocks());
                return 0;
            }
        }
        LivePool.offline(pool, () -> {
            try (ThinPool tp = Pools.open(pool.metadata(), pool.data(), false, dir.toString())) {
                try {
                    SpaceResize.apply(tp, dataSize, metadataSize);
                } catch (IllegalArgumentException e) {
                    throw new Main.UsageError(e.getMessage());
                }
                PoolUsage u = tp.usage();
                print(u.dataBlocks(), u.dataBlockSize(), u.metadataBlocks());
            }
        });
        return 0;
    }

    private void print(long dataBlocks, long blockSize, long metadataBlocks) {
        System.out.printf("pool %s: data %s (%d blocks), metadata %s%n", dir, Sizes.human(dataBlocks * blockSize),
                dataBlocks, Sizes.human(metadataBlocks * Layout.BLOCK_SIZE));
    }
}
