package org.thinfs.fs.cli;

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
                if (f.length > 2 && unescape(f[1]).equals(mountPoint.toString())) {
                    return Optional.of(unescape(f[0]));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
