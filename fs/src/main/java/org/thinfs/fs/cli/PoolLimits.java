package org.thinfs.fs.cli;

import org.thinfs.core.format.Layout;

/**
 * Sizes that cannot work, refused before anything is written, each with its reason and the fix:
 * <ul>
 *   <li>metadata: dm-thin's metadata space map addresses at most {@link Layout#MAX_METADATA_BLOCKS} blocks of
 *       4 KiB (about 15.9 GiB), and formatting needs at least {@link #MIN_METADATA} bytes;</li>
 *   <li>data: the mappings of every data block must fit in that metadata (about 32.5 bytes per block, as
 *       thin_metadata_size estimates), and the data space map keeps a byte of reference count per data block in
 *       the daemon's memory. The largest pool is therefore about 2^29 blocks per GiB of memory the daemon may
 *       have; at the default 64 KiB blocks the metadata bound (about 31 TiB) comes first. Larger block sizes scale
 *       both: 1 MiB blocks allow about 500 TiB.</li>
 * </ul>
 */
final class PoolLimits {
    /** The smallest metadata file thinfs formats (room for the superblock, both space maps and the trees). */
    static final long MIN_METADATA = 1L << 20;
    /** Metadata bytes a data block's mapping needs, as thin_metadata_size estimates it (65/2). */
    private static final double BYTES_PER_MAPPING = 32.5;

    private PoolLimits() {
    }

    static long maxMetadata() {
        return Layout.MAX_METADATA_BLOCKS * Layout.BLOCK_SIZE;
    }

    static void checkMetadata(long bytes) {
        if (bytes < MIN_METADATA) {
            throw new Main.UsageError("--metadata-size " + Sizes.human(bytes) + " is too small to format a pool; "
                    + "give at least " + Sizes.human(MIN_METADATA));
        }
        if (bytes > maxMetadata()) {
            throw new Main.UsageError("--metadata-size " + Sizes.human(bytes) + " is more than dm-thin metadata can "
                    + "address (" + Sizes.human(maxMetadata()) + "); give " + Sizes.human(maxMetadata()) + " or less");
        }
    }

    static void checkData(long size, long blockSize) {
        long blocks = size / blockSize;
        double metadataNeeded = blocks * BYTES_PER_MAPPING;
        if (metadataNeeded > maxMetadata()) {
            throw new Main.UsageError("a pool of " + Sizes.human(size) + " in blocks of " + Sizes.human(blockSize)
                    + " needs about " + Sizes.human((long) metadataNeeded) + " of metadata, more than dm-thin's "
                    + Sizes.human(maxMetadata()) + "; use --block-size " + flag(blockFor(size,
                    b -> size / b * BYTES_PER_MAPPING <= maxMetadata())) + " or larger");
        }
        long memory = memoryForCounts();
        if (blocks > memory) {
            throw new Main.UsageError("a pool of " + Sizes.human(size) + " in blocks of " + Sizes.human(blockSize)
                    + " keeps " + Sizes.human(blocks) + " of data reference counts in memory, more than the "
                    + Sizes.human(memory) + " this machine's daemon may use; use --block-size "
                    + Sizes.human(blockFor(size, b -> size / b <= memory)) + " or larger");
        }
    }

    /** Memory the data space map may take: what this JVM may grow to, less room for everything else. */
    private static long memoryForCounts() {
        return Math.max(0, Runtime.getRuntime().maxMemory() - (256L << 20));
    }

    /** A power-of-two size as the option takes it: 64k, 1M, 1G. */
    private static String flag(long b) {
        return b >= 1L << 30 ? (b >> 30) + "G" : b >= 1L << 20 ? (b >> 20) + "M" : (b >> 10) + "k";
    }

    /** The smallest power-of-two block size (64 KiB to 1 GiB) that passes, or 1 GiB. */
    private static long blockFor(long size, java.util.function.LongPredicate fits) {
        long b = 64L << 10;
        while (b < (1L << 30) && !fits.test(b)) {
            b <<= 1;
        }
        return b;
    }
}
