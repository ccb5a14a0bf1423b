package org.thinfs.core.tools;

import org.thinfs.core.format.Layout;
import org.thinfs.core.format.Superblock;

import java.nio.ByteBuffer;

/** The superblock field rules of FORMAT.md 4 (the checksum is checked before). */
final class SuperblockRules {
    private SuperblockRules() {
    }

    static void check(CheckContext ctx, Superblock sb, ByteBuffer raw, long nr, long deviceBlocks) {
        if (sb.magic() != Layout.MAGIC) {
            ctx.error(nr, "superblock magic is " + sb.magic() + ", wanted " + Layout.MAGIC);
        }
        if (sb.blocknr() != nr) {
            ctx.error(nr, "superblock records block number " + Long.toUnsignedString(sb.blocknr()) + ", not " + nr);
        }
        if (sb.incompatFlags() != 0) {
            ctx.error(nr, "unsupported incompatible feature bits " + Integer.toUnsignedString(sb.incompatFlags())
                    + ": the kernel refuses to open this metadata");
        }
        if (sb.compatRoFlags() != 0) {
            ctx.error(nr, "unsupported compat_ro feature bits " + Integer.toUnsignedString(sb.compatRoFlags())
                    + ": the kernel refuses to open this metadata read-write");
        }
        if (sb.compatFlags() != 0) {
            ctx.warning(nr, "unknown compat feature bits " + Integer.toUnsignedString(sb.compatFlags()));
        }
        long dbs = Integer.toUnsignedLong(sb.dataBlockSize());
        if (!Layout.isValidDataBlockSectors(dbs)) {
            ctx.error(nr, "data block size " + dbs + " sectors is not a multiple of " + Layout.MIN_DATA_BLOCK_SECTORS
                    + " in " + Layout.MIN_DATA_BLOCK_SECTORS + ".." + Layout.MAX_DATA_BLOCK_SECTORS);
        }
        if (sb.metadataBlockSize() != Layout.METADATA_BLOCK_SECTORS) {
            ctx.error(nr, "metadata block size is " + Integer.toUnsignedString(sb.metadataBlockSize())
                    + " sectors, not " + Layout.METADATA_BLOCK_SECTORS);
        }
        if (sb.version() != 1 && sb.version() != 2) {
            ctx.warning(nr, "superblock version " + Integer.toUnsignedString(sb.version())
                    + " (1 and 2 share this layout)");
        }
        if ((sb.flags() & ~Layout.FLAG_NEEDS_CHECK) != 0) {
            ctx.warning(nr, "unknown superblock flag bits " + Integer.toHexString(sb.flags()));
        }
        if (sb.needsCheck()) {
            ctx.warning(nr, "NEEDS_CHECK is set: the kernel keeps the pool read-only until it is cleared");
        }
        long formatted = sb.metadataNrBlocks();
        if (formatted != Math.min(deviceBlocks, Layout.MAX_METADATA_BLOCKS) && formatted != sb.metadataSpaceMap()
                .nrBlocks()) {
            ctx.warning(nr, "metadata_nr_blocks is " + Long.toUnsignedString(formatted) + ", the device holds "
                    + deviceBlocks + " blocks");
        }
        for (int i = Superblock.USED_BYTES; i < Layout.BLOCK_SIZE; i++) {
            if (raw.get(i) != 0) {
                ctx.warning(nr, "non-zero byte at offset " + i + ", past the superblock's " + Superblock.USED_BYTES
                        + " used bytes");
                break;
            }
        }
    }
}
