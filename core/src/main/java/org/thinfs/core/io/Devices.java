package org.thinfs.core.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Block devices as a pool's metadata or data: they have the size they have (no truncate, no extend), and
 * {@code Files.size} reads 0 for them, so sizes come from the device itself.
 */
public final class Devices {
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    private Devices() {
    }

    /** Whether {@code path} (following links) is a block device. */
    public static boolean isBlockDevice(Path path) {
        try {
            return ((int) Files.getAttribute(path, "unix:mode") & S_IFMT) == S_IFBLK;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The size in bytes of a file or a block device. */
    public static long size(Path path) throws IOException {
        if (!isBlockDevice(path)) {
            return Files.size(path);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return ch.size();
        }
    }
}
