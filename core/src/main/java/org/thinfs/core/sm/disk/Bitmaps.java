package org.thinfs.core.sm.disk;

import org.thinfs.core.format.Layout;

import java.nio.ByteBuffer;

/**
 * The 2-bit entries of a space-map bitmap block (FORMAT.md 7.2). Entry i lives in byte 16 + i / 4; within it,
 * bit 2·(i mod 4) is the value's HIGH bit and the next bit its LOW bit, so count 1 is 0b10, 2 is 0b01, 3 is 0b11.
 */
final class Bitmaps {
    private Bitmaps() {
    }

    /** Bytes of entries in a bitmap block: four entries a byte. */
    private static final int BYTES = Layout.ENTRIES_PER_BITMAP / 4;

    /**
     * The block's entries, one value (0..3) a byte. A byte at a time: the four entries packed low to high are the
     * disk's byte with the two bits of each pair swapped (the disk keeps a value's high bit first).
     */
    static void decode(ByteBuffer block, byte[] values) {
        byte[] packed = new byte[BYTES];
        block.get(Layout.BITMAP_HEADER, packed);
        for (int i = 0, v = 0; i < BYTES; i++, v += 4) {
            int x = swapPairs(packed[i] & 0xFF);
            values[v] = (byte) (x & 3);
            values[v + 1] = (byte) ((x >> 2) & 3);
            values[v + 2] = (byte) ((x >> 4) & 3);
            values[v + 3] = (byte) (x >> 6);
        }
    }

    /** The inverse of {@link #decode}: {@code values} (0..3 each) into the block's entries. */
    static void encode(byte[] values, ByteBuffer block) {
        byte[] packed = new byte[BYTES];
        for (int i = 0, v = 0; i < BYTES; i++, v += 4) {
            int x = values[v] | values[v + 1] << 2 | values[v + 2] << 4 | values[v + 3] << 6;
            packed[i] = (byte) swapPairs(x);
        }
        block.put(Layout.BITMAP_HEADER, packed);
    }

    /** Swaps the two bits of each of the four pairs in a byte. */
    private static int swapPairs(int x) {
        return ((x & 0x55) << 1) | ((x >> 1) & 0x55);
    }
}
