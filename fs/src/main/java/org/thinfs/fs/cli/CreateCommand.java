package org.thinfs.fs.cli;

import org.thinfs.core.pool.SpacePolicy;
import org.thinfs.fs.model.PoolSettings;

import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinPool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;

@Command(name = "create", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = "Make a new pool directory holding a metadata file and a sparse data file.")
final class CreateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL", description = "Directory to create.")
    Path dir;

    @Option(names = "--size", converter = Sizes.class, description = "Data space, e.g. 10G (with --data-device: "
            + "the device's size unless given).")
    Long size;

    @Option(names = "--metadata-device", paramLabel = "DEV", description = "Put the metadata on this block device "
            + "(all of it, as dm-thin's metadata device); needs --data-device.")
    Path metadataDevice;

    @Option(names = "--data-device", paramLabel = "DEV", description = "Put the data on this block device; the "
            + "directory then holds the catalog, settings, log and socket, and names the devices in devices.json.")
    Path dataDevice;

    @Option(names = "--block-size", converter = Sizes.class, defaultValue = "64k",
            description = "Data block size: a multiple of 64k up to 1G (default: ${DEFAULT-VALUE}).")
    long blockSize;

    @Option(names = "--metadata-size", converter = Sizes.class,
            description = "Metadata file size (default: estimated as thin_metadata_size does, doubled for snapshots).")
    Long metadataSize;

    @Option(names = "--autoextend-threshold", paramLabel = "PERCENT",
            description = "Grow a space when this much of it is used, 50-100 (default 100: autoextend off).")
    String autoextendThreshold;

    @Option(names = "--autoextend-percent", paramLabel = "PERCENT",
            description = "Grow by this share of the current size (default 20).")
    String autoextendPercent;

    @Option(names = "--autoextend-max", paramLabel = "SIZE",
            description = "Never grow the data space past SIZE (default 0: only the host's free space bounds it).")
    String autoextendMax;

    @Option(names = "--when-full", paramLabel = "error|wait",
            description = "A write to a full pool: ENOSPC at once (error, the default) or held up to 60 s (wait).")
    String whenFull;

    /** Where a create builds the pool before renaming it into place; a leftover one is named by create and mount. */
    static final String BUILDING = ".thinfs-creating";

    @Override
    public Integer call() throws Exception {
        PoolDir pool = new PoolDir(dir);
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new Main.UsageError(dir + " exists and is not a directory; give a new or empty directory");
        }
        Pools.refuseUnfinishedCreate(dir);
        if (Files.exists(pool.metadata())) {
            throw new Main.UsageError(dir + " already holds a pool");
        }
        if ((metadataDevice == null) != (dataDevice == null)) {
            throw new Main.UsageError("--metadata-device and --data-device go together");
        }
        if (metadataDevice != null) {
            return onDevices(pool);
        }
        if (size == null) {
            throw new Main.UsageError("--size is required (the data space, e.g. 10G)");
        }
        if (blockSize % 65536 != 0 || blockSize < 65536 || blockSize > (1L << 30)) {
            throw new Main.UsageError("--block-size must be a multiple of 64k from 64k to 1G, not " + blockSize);
        }
        if (size < blockSize) {
            throw new Main.UsageError("--size must hold at least one data block of " + Sizes.human(blockSize));
        }
        PoolLimits.checkData(size, blockSize);
        long meta = metadataSize != null ? metadataSize : PoolDir.defaultMetadataSize(size, blockSize);
        PoolLimits.checkMetadata(meta);
        build(pool, meta, policy());
        return 0;
    }

    /**
     * A pool on two block devices: both claimed (O_EXCL) first, the metadata formatted over the whole metadata
     * device, the data space the data device's size (or --size, never more); the directory gets devices.json, the
     * settings, and nothing else. A device in use is refused before a byte is written.
     */
    private int onDevices(PoolDir pool) throws Exception {
        for (Path d : new Path[]{metadataDevice, dataDevice}) {
            if (!org.thinfs.core.io.Devices.isBlockDevice(d)) {
                throw new Main.UsageError(d + " is not a block device");
            }
        }
        Path meta = metadataDevice.toRealPath();
        Path data = dataDevice.toRealPath();
        if (meta.equals(data)) {
            throw new Main.UsageError("the metadata and the data need two devices, not " + meta + " twice");
        }
        if (blockSize % 65536 != 0 || blockSize < 65536 || blockSize > (1L << 30)) {
            throw new Main.UsageError("--block-size must be a multiple of 64k from 64k to 1G, not " + blockSize);
        }
        DeviceClaims.claim(meta);
        DeviceClaims.claim(data);
        long deviceBytes = org.thinfs.core.io.Devices.size(data);
        long dataSize = size != null ? size : deviceBytes;
        if (dataSize > deviceBytes) {
            throw new Main.UsageError("--size " + Sizes.human(dataSize) + " is more than " + data + " holds ("
                    + Sizes.human(deviceBytes) + ")");
        }
        if (dataSize < blockSize) {
            throw new Main.UsageError("the data device must hold at least one data block of " + Sizes.human(blockSize));
        }
        PoolLimits.checkData(dataSize, blockSize);
        SpacePolicy policy = policy();
        Files.createDirectories(dir);
        PoolUsage u;
        try (ThinPool p = ThinPool.create(meta, data, new PoolConfig(blockSize, dataSize,
                org.thinfs.core.io.Devices.size(meta)), PoolOptions.DEFAULT)) {
            u = p.usage();
        }
        if (!policy.equals(SpacePolicy.DEFAULT)) {
            PoolSettings.write(dir, policy);
        }
        // Last: a directory holds a pool once devices.json names its devices.
        pool.writeDevices(meta, data);
        System.out.printf("created pool %s on %s and %s: %s of data in %d blocks of %s, %s of metadata%n", dir, meta,
                data, Sizes.human(u.dataBlocks() * u.dataBlockSize()), u.dataBlocks(), Sizes.human(blockSize),
                Sizes.human(u.metadataBlocks() * 4096L));
        return 0;
    }

    /**
     * A pool gives freed blocks back to the host by punching them out of the sparse data file, and reads the holes
     * as zeros; a file system that cannot punch holes (ext2, vfat, some network file systems) would keep every
     * block a volume ever used, so it is refused up front.
     */
    private void requirePunchHole(Path data) throws Exception {
        try (java.nio.channels.FileChannel f = java.nio.channels.FileChannel.open(data,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.write(java.nio.ByteBuffer.allocate(1), 2 * 65536 - 1);
        }
        try (org.thinfs.fs.fuse.HolePuncher hp = new org.thinfs.fs.fuse.HolePuncher(data)) {
            hp.punch(0, 65536);
        } catch (java.io.IOException e) {
            throw new Main.UsageError("the file system under " + dir.toAbsolutePath().getParent() + " cannot punch "
                    + "holes (fallocate PUNCH_HOLE), which a pool needs to give freed space back; put the pool on "
                    + "ext4, xfs, btrfs or tmpfs");
        }
        try (java.nio.channels.FileChannel f = java.nio.channels.FileChannel.open(data,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0);
        }
    }

    /**
     * All or nothing: the pool is made in {@code POOL/.thinfs-creating} (or beside POOL when POOL does not exist
     * yet) and moved into place when complete, the metadata file last, since a directory holds a pool exactly when
     * its metadata file is there. A failure removes what it made; a crash leaves only the building folder, which
     * the next create or mount names with the command that removes it.
     */
    /** The space policy the options give, checked before anything is made. */
    private SpacePolicy policy() {
        java.util.List<String> items = new java.util.ArrayList<>();
        String[] values = {autoextendThreshold, autoextendPercent, autoextendMax, whenFull};
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                items.add(SpacePolicy.NAMES[i] + "=" + values[i]);
            }
        }
        return items.isEmpty() ? SpacePolicy.DEFAULT : SetCommand.apply(SpacePolicy.DEFAULT, SetCommand.parse(items));
    }

    private void build(PoolDir pool, long meta, SpacePolicy policy) throws Exception {
        boolean fresh = !Files.exists(dir);
        Path building = fresh ? dir.toAbsolutePath().resolveSibling("." + dir.getFileName() + BUILDING)
                : dir.resolve(BUILDING);
        Files.createDirectories(building.getParent());
        Files.createDirectory(building);
        PoolDir b = new PoolDir(building);
        try {
            Files.createFile(b.data());
            requirePunchHole(b.data());
            PoolUsage u;
            try (ThinPool p = ThinPool.create(b.metadata(), b.data(), new PoolConfig(blockSize, size, meta),
                    PoolOptions.DEFAULT)) {
                u = p.usage();
            }
            if (!policy.equals(SpacePolicy.DEFAULT)) {
                PoolSettings.write(building, policy);
            }
            if (fresh) {
                Files.move(building, dir, StandardCopyOption.ATOMIC_MOVE);
            } else {
                Files.move(b.data(), pool.data(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                if (Files.exists(building.resolve(PoolSettings.FILE))) {
                    Files.move(building.resolve(PoolSettings.FILE), pool.dir().resolve(PoolSettings.FILE),
                            StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(b.metadata(), pool.metadata(), StandardCopyOption.ATOMIC_MOVE);
                Files.delete(building);
            }
            System.out.printf("created pool %s: %s of data in %d blocks of %s, %s of metadata%n", dir,
                    Sizes.human(u.dataBlocks() * u.dataBlockSize()), u.dataBlocks(), Sizes.human(blockSize),
                    Sizes.human(u.metadataBlocks() * 4096L));
        } catch (Exception | Error e) {
            Pools.deleteTree(building);
            throw e;
        }
    }
}
