package org.thinfs.fs.cli;

import org.thinfs.core.format.Layout;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinPool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "resize", mixinStandardHelpOptions = true,
        header = "Grow a pool's data or metadata space.",
        description = {"Grow a pool's data or metadata space, also while it is mounted (the daemon does it).",
                "Shrinking is refused: blocks past the end may be in use."})
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
        if (Files.isRegularFile(pool.dir().resolve("thinfs.pid"))) {
            ResizeRequests.request(pool, dataSize, metadataSize, java.time.Duration.ofSeconds(60));
            System.out.println("resized the mounted pool " + dir + "; 'thinfs status' shows the new sizes after the "
                    + "next commit");
            return 0;
        }
        try (ThinPool tp = Pools.open(pool.metadata(), pool.data(), false, dir.toString())) {
            PoolUsage u = tp.usage();
            if (dataSize != null) {
                long blocks = dataSize / u.dataBlockSize();
                if (blocks < u.dataBlocks()) {
                    throw new Main.UsageError("cannot shrink the data space from " + u.dataBlocks() + " to " + blocks
                            + " blocks");
                }
                tp.resizeData(blocks);
            }
            if (metadataSize != null) {
                long blocks = Math.min(metadataSize / Layout.BLOCK_SIZE, Layout.MAX_METADATA_BLOCKS);
                if (blocks < u.metadataBlocks()) {
                    throw new Main.UsageError("cannot shrink the metadata space from " + u.metadataBlocks() + " to "
                            + blocks + " blocks");
                }
                tp.resizeMetadata(blocks);
            }
            u = tp.usage();
            System.out.printf("pool %s: data %s (%d blocks), metadata %s%n", dir,
                    Sizes.human(u.dataBlocks() * u.dataBlockSize()), u.dataBlocks(),
                    Sizes.human(u.metadataBlocks() * Layout.BLOCK_SIZE));
        }
        return 0;
    }
}
