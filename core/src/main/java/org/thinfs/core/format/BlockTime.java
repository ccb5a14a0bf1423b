package org.thinfs.core.format;

/** A bottom-level mapping value: data block (40 bits) shifted left 24, OR the mapping's time (24 bits). */
public final class BlockTime {
    private BlockTime() {
    }

    public static long pack(long dataBlock, int time) {
        return (dataBlock << 24) | (time & Layout.TIME_MASK);
    }

    public static long dataBlock(long value) {
        return value >>> 24;
    }

    public static int time(long value) {
        return (int) (value & Layout.TIME_MASK);
    }
}
