package org.thinfs.fs.cli;

import org.thinfs.fs.fuse.MountPaths;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads /proc/mounts. */
final class MountTable {
    private MountTable() {
    }

    static boolean isMounted(Path mountPoint) {
        return source(mountPoint).isPresent();
    }

    /** The mount's source (for thinfs: "thinfs:POOL") when {@code mountPoint} is mounted. */
    static Optional<String> source(Path mountPoint) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && MountPaths.unescape(f[1]).equals(mountPoint.toString())) {
                    return Optional.of(MountPaths.unescape(f[0]));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
