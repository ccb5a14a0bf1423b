package org.thinfs.fs.cli;

import org.thinfs.core.format.Layout;

import java.nio.file.Files;
import java.nio.file.Path;

/** The files of a pool directory: {@code metadata}, {@code data}, {@code catalog.*.json}, {@code thinfs.log}. */
record PoolDir(Path dir) {
    Path metadata() {
        return dir.resolve("metadata");
    }

    Path data() {
        return dir.resolve("data");
    }

    Path log() {
        return dir.resolve("thinfs.log");
    }

    Path lock() {
        return dir.resolve(".lock");
    }

    boolean exists() {
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
