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

    static void decode(ByteBuffer block, byte[] values) {
        for (int i = 0; i < Layout.ENTRIES_PER_BITMAP; i++) {
            int b = block.get(Layout.BITMAP_HEADER + (i >> 2)) & 0xFF;
            int shift = 2 * (i & 3);
            int high = (b >> shift) & 1;
            int low = (b >> (shift + 1)) & 1;
            values[i] = (byte) ((high << 1) | low);
        }
    }

    static void encode(byte[] values, ByteBuffer block) {
        for (int byteIndex = 0; byteIndex < Layout.ENTRIES_PER_BITMAP / 4; byteIndex++) {
            int out = 0;
            for (int j = 0; j < 4; j++) {
                int v = values[4 * byteIndex + j];
                out |= ((v >> 1) & 1) << (2 * j);
                out |= (v & 1) << (2 * j + 1);
            }
            block.put(Layout.BITMAP_HEADER + byteIndex, (byte) out);
        }
    }
}
