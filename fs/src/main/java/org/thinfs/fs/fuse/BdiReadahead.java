package org.thinfs.fs.fuse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Raises the page-cache readahead of a FUSE mount to its request size, so buffered sequential reads arrive as large
 * requests too.
 *
 * <p>The kernel caps a FUSE mount's readahead at 128 KiB when INIT is answered (the reply's
 * {@code max_readahead} can only lower it), and buffered reads are split into requests of one readahead window
 * whatever {@code max_pages} allows. After INIT, root can raise it like any device's, through
 * {@code /sys/class/bdi/MAJOR:MINOR/read_ahead_kb}. The device number comes from {@code /proc/self/mountinfo},
 * not from {@code stat} of the mount point, which would be a FUSE request to the file system being set up.
 * Best effort: without the right (not root) the mount keeps the kernel's readahead.
 */
final class BdiReadahead {
    private static final Logger LOG = LoggerFactory.getLogger(BdiReadahead.class);

    private BdiReadahead() {
    }

    static void raise(Path mountPoint, int bytes) {
        String device = deviceOf(mountPoint.toAbsolutePath().normalize().toString());
        if (device == null) {
            LOG.debug("no mountinfo line for {}; readahead left as it is", mountPoint);
            return;
        }
        Path knob = Path.of("/sys/class/bdi", device, "read_ahead_kb");
        try {
            Files.writeString(knob, Integer.toString(bytes / 1024));
            LOG.debug("readahead of {} raised to {} KiB", mountPoint, bytes / 1024);
        } catch (IOException | SecurityException e) {
            LOG.debug("cannot raise the readahead of {} ({}): {}", mountPoint, knob, e.toString());
        }
    }

    /** MAJOR:MINOR of the newest mount at {@code mountPoint}, or null. */
    static String deviceOf(String mountPoint) {
        try {
            return deviceOf(Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8), mountPoint);
        } catch (IOException e) {
            return null;
        }
    }

    /** The same over mountinfo's lines: "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...", octal escapes in paths. */
    static String deviceOf(List<String> mountinfo, String mountPoint) {
        String found = null;
        for (String line : mountinfo) {
            String[] f = line.split(" ");
            if (f.length > 4 && MountPaths.unescape(f[4]).equals(mountPoint)) {
                found = f[2];
            }
        }
        return found;
    }
}
