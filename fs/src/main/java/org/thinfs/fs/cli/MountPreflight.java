package org.thinfs.fs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What libfuse would refuse, checked before the daemon starts, so the user reads the reason and the fix in one
 * sentence instead of a FUSE exception and a message in the daemon's log.
 */
final class MountPreflight {
    private MountPreflight() {
    }

    static void check(Path mnt, List<String> fuseOptions) throws IOException {
        if (!Files.exists(Path.of("/dev/fuse"))) {
            throw new Main.UsageError("there is no /dev/fuse: load the module with 'modprobe fuse' (in a container, "
                    + "pass the device in with --device /dev/fuse)");
        }
        if (!onPath("fusermount") && !onPath("fusermount3")) {
            throw new Main.UsageError("fusermount is not installed: install it with 'apt-get install fuse'");
        }
        if (!fuseOptions.contains("nonempty")) {
            try (Stream<Path> entries = Files.list(mnt)) {
                if (entries.findAny().isPresent()) {
                    throw new Main.UsageError("mount point " + mnt + " is not empty: mount on an empty directory, "
                            + "or add -o nonempty to hide its files while mounted");
                }
            }
        }
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
