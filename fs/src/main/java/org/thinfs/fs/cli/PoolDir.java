package org.thinfs.fs.cli;

import org.thinfs.core.format.Layout;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The files of a pool directory: {@code metadata}, {@code data}, {@code catalog.*.json}, {@code thinfs.log}. A pool
 * on block devices keeps them out of the directory and names them in {@code devices.json} ({@link #DEVICES}); the
 * directory then holds the rest (catalog, settings, log, socket).
 */
record PoolDir(Path dir) {
    static final String DEVICES = "devices.json";

    /** The block devices of a pool made with --metadata-device and --data-device. */
    record DeviceNames(String metadata, String data) {
    }

    /** The devices this pool lives on, or null for a pool of files. */
    DeviceNames devices() {
        Path f = dir.resolve(DEVICES);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue(f.toFile(), DeviceNames.class);
        } catch (java.io.IOException e) {
            throw new Main.UsageError("cannot read " + f + ": " + e.getMessage());
        }
    }

    /**
     * Names the pool's devices in devices.json (written whole, then renamed into place: a directory holds a pool on
     * devices once it is there), by names that survive reboots when udev gives them.
     */
    void writeDevices(Path metadata, Path data) throws java.io.IOException {
        Path tmp = dir.resolve(DEVICES + ".tmp");
        new com.fasterxml.jackson.databind.ObjectMapper().writeValue(tmp.toFile(),
                new DeviceNames(stableName(metadata), stableName(data)));
        Files.move(tmp, dir.resolve(DEVICES), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A name of {@code dev} from /dev/disk/by-id when udev gives one, else the path itself. */
    private static String stableName(Path dev) {
        try (var links = Files.list(Path.of("/dev/disk/by-id"))) {
            for (Path l : (Iterable<Path>) links::iterator) {
                if (l.toRealPath().equals(dev)) {
                    return l.toString();
                }
            }
        } catch (java.io.IOException ignored) {
            // no by-id names here (containers, loop devices)
        }
        return dev.toString();
    }

    Path metadata() {
        DeviceNames d = devices();
        return d != null ? Path.of(d.metadata()) : dir.resolve("metadata");
    }

    Path data() {
        DeviceNames d = devices();
        return d != null ? Path.of(d.data()) : dir.resolve("data");
    }

    Path log() {
        return dir.resolve("thinfs.log");
    }

    Path lock() {
        return dir.resolve(".lock");
    }

    boolean exists() {
        if (devices() != null) {
            return org.thinfs.core.io.Devices.isBlockDevice(metadata()) && org.thinfs.core.io.Devices.isBlockDevice(
                    data());
        }
        return Files.isRegularFile(metadata()) && Files.isRegularFile(data());
    }

    /**
     * Metadata size for a pool as thin_metadata_size estimates it (about 32.5 bytes per data block plus a block per
     * thin device, for up to 1000 devices), doubled for the metadata that snapshots' copied leaves need, at least
     * 4 MiB, at most what the format can use.
     */
    static long defaultMetadataSize(long dataSize, long blockSize) {
        long blocks = dataSize / blockSize;
        long estimate = 2 * (blocks * 65 / 2 + 1000L * Layout.BLOCK_SIZE);
        long min = 4L << 20;
        long max = Layout.MAX_METADATA_BLOCKS * Layout.BLOCK_SIZE;
        long size = Math.max(min, Math.min(max, estimate));
        return (size + Layout.BLOCK_SIZE - 1) / Layout.BLOCK_SIZE * Layout.BLOCK_SIZE;
    }
}
