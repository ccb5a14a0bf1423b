package org.thinfs.core.thin;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.io.Validators;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Reads and validates the superblock as strictly as the kernel does, and writes it last in a commit. */
final class SuperblockIO {
    private SuperblockIO() {
    }

    static boolean isUnformatted(BlockManager bm) {
        ByteBuffer b = bm.readRaw(Layout.SUPERBLOCK_LOCATION);
        for (int i = 0; i < Layout.BLOCK_SIZE; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }

    static Superblock read(BlockManager bm, boolean writable) {
        return read(bm, writable, false);
    }

    static Superblock read(BlockManager bm, boolean writable, boolean allowNeedsCheck) {
        if (bm.nrBlocks() < 1) {
            throw new CorruptMetadataException(0, "the metadata device is empty");
        }
        if (isUnformatted(bm)) {
            throw new CorruptMetadataException(0, "the metadata device is not formatted (block 0 is all zeros)");
        }
        ByteBuffer b = bm.readRaw(Layout.SUPERBLOCK_LOCATION);
        Validators.SUPERBLOCK.check(b, Layout.SUPERBLOCK_LOCATION);
        Superblock sb = Superblock.decode(b);
        if (sb.magic() != Layout.MAGIC) {
            throw new CorruptMetadataException(0, "superblock magic is " + sb.magic() + ", wanted " + Layout.MAGIC);
        }
        if (sb.incompatFlags() != 0) {
            throw new CorruptMetadataException(0, "unsupported incompatible features " + sb.incompatFlags());
        }
        if (writable && sb.compatRoFlags() != 0) {
            throw new MetadataReadOnlyException("the metadata uses optional features (" + sb.compatRoFlags()
                    + ") that allow read-only access only");
        }
        if (!Layout.isValidDataBlockSectors(Integer.toUnsignedLong(sb.dataBlockSize()))) {
            throw new CorruptMetadataException(0, "data block size of " + Integer.toUnsignedLong(sb.dataBlockSize())
                    + " sectors is not a multiple of 128 between 128 and 2097152");
        }
        if (sb.metadataBlockSize() != Layout.METADATA_BLOCK_SECTORS) {
            throw new CorruptMetadataException(0, "metadata block size is " + sb.metadataBlockSize()
                    + " sectors, only 8 is supported");
        }
        if (writable && sb.needsCheck() && !allowNeedsCheck) {
            throw new MetadataReadOnlyException("the metadata is flagged NEEDS_CHECK after an earlier failure: "
                    + "run 'thinfs check' (or thin_check --clear-needs-check-flag) before using it read-write");
        }
        return sb;
    }

    /** Writes {@code sb} as block {@code nr} (checksum last) and flushes. */
    static void write(BlockManager bm, Superblock sb, long nr) {
        ByteBuffer b = ByteBuffer.allocate(Layout.BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        sb.encode(b);
        bm.writeAndFlush(nr, b, Validators.SUPERBLOCK);
    }
}
