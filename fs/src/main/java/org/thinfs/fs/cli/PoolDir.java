package org.thinfs.fs.cli;

import org.thinfs.core.format.Layout;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The files of a pool directory: {@code metadata}, {@code data}, {@code catalog.*.json}, {@code times.*.json},
 * {@code thinfs.log}. A pool on block devices keeps the first two out of the directory and names them in
 * {@code devices.json} ({@link #DEVICES}); the directory then holds the rest (catalog, times, settings, log, socket).
 */
record PoolDir(Path dir) {
    static final String DEVICES = "devices.json";

    /**
     * The block devices of a pool made with --metadata-device and --data-device, and what identifies each when its
     * name alone does not (null for a /dev/disk/by-id name, which names the same disk across reboots).
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    record DeviceNames(String metadata, String data, DeviceIdentity metadataIdentity, DeviceIdentity dataIdentity) {
    }

    /**
     * What a device named by a plain path must still be: at least {@code bytes} long (a data device may grow), and
     * for a loop device, backed by the same file ({@code /dev/loop3} after a reboot is whatever was attached third).
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    record DeviceIdentity(long bytes, String loopFile) {
        static DeviceIdentity of(Path dev) throws java.io.IOException {
            return new DeviceIdentity(org.thinfs.core.io.Devices.size(dev), loopFile(dev));
        }

        /** Why {@code dev} is not this device any more, or null. */
        String mismatch(Path dev, String role) {
            try {
                String now = loopFile(dev);
                if (loopFile != null && !loopFile.equals(now)) {
                    return "the " + role + " device " + dev + " is backed by " + (now == null ? "nothing" : now)
                            + ", not by " + loopFile + " as when the pool was made; attach that file to it again "
                            + "(losetup " + dev + " " + loopFile + ")";
                }
                long size = org.thinfs.core.io.Devices.size(dev);
                if (size < bytes) {
                    return "the " + role + " device " + dev + " holds " + size + " bytes, less than the " + bytes
                            + " it held when the pool was made: it is another device";
                }
                return null;
            } catch (java.io.IOException e) {
                return "cannot look at the " + role + " device " + dev + ": " + e.getMessage();
            }
        }

        private static String loopFile(Path dev) {
            try {
                Path f = Path.of("/sys/class/block", dev.toRealPath().getFileName().toString(), "loop",
                        "backing_file");
                return Files.isRegularFile(f) ? Files.readString(f).strip() : null;
            } catch (java.io.IOException e) {
                return null;
            }
        }
    }

    /**
     * The devices this pool lives on, or null for a pool of files. A device named by a plain path is checked against
     * what was recorded (see {@link DeviceIdentity}); one that changed is refused with one sentence before anything
     * opens it.
     */
    DeviceNames devices() {
        Path f = dir.resolve(DEVICES);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        DeviceNames d;
        try {
            d = new com.fasterxml.jackson.databind.ObjectMapper().readValue(f.toFile(), DeviceNames.class);
        } catch (java.io.IOException e) {
            throw new Main.UsageError("cannot read " + f + ": " + e.getMessage());
        }
        for (int i = 0; i < 2; i++) {
            DeviceIdentity id = i == 0 ? d.metadataIdentity() : d.dataIdentity();
            Path dev = Path.of(i == 0 ? d.metadata() : d.data());
            String why = id == null || !Files.exists(dev) ? null : id.mismatch(dev, i == 0 ? "metadata" : "data");
            if (why != null) {
                throw new Main.UsageError(why + "; nothing was opened");
            }
        }
        return d;
    }

    /**
     * Names the pool's devices in devices.json (written whole, then renamed into place: a directory holds a pool on
     * devices once it is there), by names that survive reboots when udev gives them, and otherwise with what
     * identifies them.
     */
    void writeDevices(Path metadata, Path data) throws java.io.IOException {
        Path tmp = dir.resolve(DEVICES + ".tmp");
        String m = stableName(metadata);
        String d = stableName(data);
        new com.fasterxml.jackson.databind.ObjectMapper().writeValue(tmp.toFile(), new DeviceNames(m, d,
                m.startsWith("/dev/disk/by-id/") ? null : DeviceIdentity.of(metadata),
                d.startsWith("/dev/disk/by-id/") ? null : DeviceIdentity.of(data)));
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
