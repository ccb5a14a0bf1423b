package org.thinfs.fs.cli;

import org.thinfs.core.io.Devices;
import org.thinfs.fs.model.PoolFileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code thinfs adopt POOL --metadata DEV --data DEV}: makes a pool the kernel or LVM made (or any dm-thin pool on
 * two devices) a named thinfs pool on those devices. Nothing of its metadata is rewritten beyond a normal commit:
 * the devices are claimed, the metadata is opened and checked as every open checks it, the directory gets
 * devices.json, and each thin device becomes a volume named dev-ID, to rename with mv or thinfs volume rename.
 */
@Command(name = "adopt", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Make a dm-thin pool on two devices a named thinfs pool.",
        description = "Claims the devices, checks the metadata, records the devices in POOL/devices.json and names "
                + "every thin device dev-ID as a volume. The pool must not be active in the kernel.")
final class AdoptCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL", description = "Directory to create for the catalog.")
    Path dir;
    @Option(names = "--metadata", required = true, paramLabel = "DEV", description = "The pool's metadata device.")
    Path metadata;
    @Option(names = "--data", required = true, paramLabel = "DEV", description = "The pool's data device.")
    Path data;

    @Override
    public Integer call() throws Exception {
        for (Path d : new Path[]{metadata, data}) {
            if (!Devices.isBlockDevice(d)) {
                throw new Main.UsageError(d + " is not a block device");
            }
        }
        if (Files.exists(dir) && (!Files.isDirectory(dir) || new PoolDir(dir).devices() != null
                || Files.exists(dir.resolve("metadata")))) {
            throw new Main.UsageError(dir + " already holds a pool or is not a directory");
        }
        Path meta = metadata.toRealPath();
        Path dat = data.toRealPath();
        DeviceClaims.claim(meta);
        DeviceClaims.claim(dat);
        // Opened and validated before the directory names the devices: a device that is no pool leaves nothing.
        Pools.open(meta, dat, true, meta.toString()).close();
        Files.createDirectories(dir);
        PoolDir pool = new PoolDir(dir);
        pool.writeDevices(meta, dat);
        List<String> named = new ArrayList<>();
        try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
            for (String lost : fs.list("/lost+found")) {
                fs.rename("/lost+found/" + lost, "/" + lost);
                named.add(lost);
            }
        }
        System.out.printf("adopted the pool on %s and %s as %s: %d volume%s (%s)%n", meta, dat, dir, named.size(),
                named.size() == 1 ? "" : "s", String.join(", ", named));
        return 0;
    }
}
