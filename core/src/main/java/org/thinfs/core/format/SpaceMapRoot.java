package org.thinfs.core.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 32 meaningful bytes of a 128-byte space-map root field in the superblock.
 * {@code bitmapRoot} is the index block (metadata map) or the index btree's root (data map).
 */
public record SpaceMapRoot(long nrBlocks, long nrAllocated, long bitmapRoot, long refCountRoot) {
    public static final int FIELD_SIZE = 128;

    public static SpaceMapRoot decode(ByteBuffer buf, int offset) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        return new SpaceMapRoot(b.getLong(offset), b.getLong(offset + 8), b.getLong(offset + 16),
                b.getLong(offset + 24));
    }

    /** Writes the root and zeroes the rest of the 128-byte field. */
    public void encode(ByteBuffer buf, int offset) {
        for (int i = 0; i < FIELD_SIZE; i++) {
            buf.put(offset + i, (byte) 0);
        }
        buf.putLong(offset, nrBlocks);
        buf.putLong(offset + 8, nrAllocated);
        buf.putLong(offset + 16, bitmapRoot);
        buf.putLong(offset + 24, refCountRoot);
    }

    public static final SpaceMapRoot NONE = new SpaceMapRoot(0, 0, 0, 0);
}
