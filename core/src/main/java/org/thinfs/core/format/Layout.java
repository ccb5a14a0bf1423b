package org.thinfs.core.format;

/** Sizes and limits of the dm-thin metadata format (FORMAT.md sections 2, 5, 7, 16). */
public final class Layout {
    public static final int BLOCK_SIZE = 4096;
    public static final int SECTOR_SIZE = 512;
    public static final int METADATA_BLOCK_SECTORS = BLOCK_SIZE / SECTOR_SIZE;

    public static final long SUPERBLOCK_LOCATION = 0;
    public static final long MAGIC = 27022010L;
    public static final int VERSION = 2;
    public static final int FLAG_NEEDS_CHECK = 1;

    /** 2-bit entries per bitmap block: 4080 bytes after a 16-byte header. */
    public static final int ENTRIES_PER_BITMAP = 16320;
    public static final int BITMAP_HEADER = 16;
    /** Index entries in the metadata space map's single index block. */
    public static final int METADATA_INDEX_ENTRIES = 255;
    public static final long MAX_METADATA_BLOCKS = (long) METADATA_INDEX_ENTRIES * ENTRIES_PER_BITMAP;

    public static final int MIN_DATA_BLOCK_SECTORS = 128;
    public static final int MAX_DATA_BLOCK_SECTORS = 2_097_152;
    public static final long MAX_THIN_DEVICE_ID = (1L << 24) - 1;
    public static final long MAX_DATA_BLOCK = (1L << 40) - 1;
    public static final int TIME_MASK = 0xFFFFFF;

    private Layout() {
    }

    public static boolean isValidDataBlockSectors(long sectors) {
        return sectors >= MIN_DATA_BLOCK_SECTORS && sectors <= MAX_DATA_BLOCK_SECTORS
                && sectors % MIN_DATA_BLOCK_SECTORS == 0;
    }

    public static long bitmapCount(long nrBlocks) {
        return (nrBlocks + ENTRIES_PER_BITMAP - 1) / ENTRIES_PER_BITMAP;
    }
}
