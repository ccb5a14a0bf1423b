package org.thinfs.core.format;

import java.nio.ByteBuffer;

/** One space-map index entry (16 bytes): where a bitmap lives and two allocation hints. */
public record IndexEntry(long blocknr, int nrFree, int noneFreeBefore) {
    public static final int SIZE = 16;

    public static IndexEntry decode(ByteBuffer buf, int offset) {
        return new IndexEntry(buf.getLong(offset), buf.getInt(offset + 8), buf.getInt(offset + 12));
    }

    public void encode(ByteBuffer buf, int offset) {
        buf.putLong(offset, blocknr);
        buf.putInt(offset + 8, nrFree);
        buf.putInt(offset + 12, noneFreeBefore);
    }
}
