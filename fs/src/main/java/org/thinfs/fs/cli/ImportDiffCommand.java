package org.thinfs.fs.cli;

import org.thinfs.core.diff.DiffImporter;
import org.thinfs.fs.model.PoolFileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "import-diff", mixinStandardHelpOptions = true,
        description = {"Apply an export-diff stream to a volume of an unmounted pool (the volume is created when",
                "missing). The whole stream is verified before anything is written."})
final class ImportDiffCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Parameters(index = "1", paramLabel = "VOLUME")
    String volume;

    @Parameters(index = "2", paramLabel = "IN")
    Path in;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        if (java.nio.file.Files.isRegularFile(pool.dir().resolve("thinfs.pid"))) {
            throw new Main.UsageError("pool " + dir + " is mounted: unmount it first");
        }
        DiffImporter.Header h = DiffImporter.verify(in);
        try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
            String path = "/" + volume;
            if (fs.list("/").stream().noneMatch(volume::equals)) {
                fs.createVolume(path, 0644);
            }
            if (h.volumeSize() > 0) {
                fs.truncate(path, h.volumeSize());
            }
            PoolFileSystem.Handle handle = fs.open(path, true);
            DiffImporter.apply(in, fs.deviceOf(handle));
            fs.markDirty();
        }
        System.out.println("applied " + in + " to " + volume);
        return 0;
    }
}
