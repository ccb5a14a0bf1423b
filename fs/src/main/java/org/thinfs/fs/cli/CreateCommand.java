package org.thinfs.fs.cli;

import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinPool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = "Make a new pool directory holding a metadata file and a sparse data file.")
final class CreateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL", description = "Directory to create.")
    Path dir;

    @Option(names = "--size", required = true, converter = Sizes.class, description = "Data space, e.g. 10G.")
    long size;

    @Option(names = "--block-size", converter = Sizes.class, defaultValue = "64k",
            description = "Data block size: a multiple of 64k up to 1G (default: ${DEFAULT-VALUE}).")
    long blockSize;

    @Option(names = "--metadata-size", converter = Sizes.class,
            description = "Metadata file size (default: estimated as thin_metadata_size does, doubled for snapshots).")
    Long metadataSize;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = new PoolDir(dir);
        if (Files.exists(pool.metadata())) {
            throw new Main.UsageError(dir + " already holds a pool");
        }
        if (blockSize % 65536 != 0 || blockSize < 65536 || blockSize > (1L << 30)) {
            throw new Main.UsageError("--block-size must be a multiple of 64k from 64k to 1G, not " + blockSize);
        }
        if (size < blockSize) {
            throw new Main.UsageError("--size must hold at least one data block of " + Sizes.human(blockSize));
        }
        long meta = metadataSize != null ? metadataSize : PoolDir.defaultMetadataSize(size, blockSize);
        Files.createDirectories(dir);
        Files.deleteIfExists(pool.data());
        Files.createFile(pool.data());
        try (ThinPool p = ThinPool.create(pool.metadata(), pool.data(), new PoolConfig(blockSize, size, meta),
                PoolOptions.DEFAULT)) {
            PoolUsage u = p.usage();
            System.out.printf("created pool %s: %s of data in %d blocks of %s, %s of metadata%n", dir,
                    Sizes.human(u.dataBlocks() * u.dataBlockSize()), u.dataBlocks(), Sizes.human(blockSize),
                    Sizes.human(u.metadataBlocks() * 4096L));
        }
        return 0;
    }
}
