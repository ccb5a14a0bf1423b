package org.thinfs.fs.cli;

import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.tools.LsRow;
import org.thinfs.core.tools.MetadataReader;
import org.thinfs.core.tools.ThinLs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "ls", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = "Per device: mapped, exclusive and shared blocks (as thin_ls), with names from the catalog.")
final class LsCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL|METADATA")
    Path target;

    @Override
    public Integer call() throws Exception {
        Path meta = Pools.metadataOf(target);
        Map<Long, String> names;
        List<LsRow> rows;
        try (FileBlockDevice dev = FileBlockDevice.open(meta, false)) {
            MetadataReader reader = MetadataReader.open(dev, false);
            rows = ThinLs.compute(reader);
            names = DeviceNames.of(target, reader.header().transaction()).byId();
        }
        System.out.printf("%-8s %-30s %14s %16s %14s %12s %12s %10s%n", "DEV", "NAME", "MAPPED_BLOCKS",
                "EXCLUSIVE_BLOCKS", "SHARED_BLOCKS", "TRANSACTION", "CREATE_TIME", "SNAP_TIME");
        for (LsRow r : rows) {
            System.out.printf("%-8d %-30s %14d %16d %14d %12d %12d %10d%n", r.devId(),
                    names.getOrDefault(r.devId(), "-"), r.mappedBlocks(), r.exclusiveBlocks(), r.sharedBlocks(),
                    r.transaction(), r.creationTime(), r.snapTime());
        }
        return 0;
    }
}
