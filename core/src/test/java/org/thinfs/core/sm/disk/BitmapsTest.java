package org.thinfs.core.sm.disk;

import org.junit.jupiter.api.Test;
import org.thinfs.core.format.Layout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BitmapsTest {
    @Test
    void entriesSitWhereFormatSaysHighBitFirst() {
        byte[] values = new byte[Layout.ENTRIES_PER_BITMAP];
        values[0] = 1;      // high bit 0 at bit 0, low bit 1 at bit 1: bits 1-0 read 0b10
        values[1] = 2;      // bits 3-2 read 0b01
        values[2] = 3;      // bits 5-4 read 0b11
        values[5] = 1;      // second byte, bits 3-2 read 0b10
        values[Layout.ENTRIES_PER_BITMAP - 1] = 2;     // last byte, bits 7-6 read 0b01
        ByteBuffer block = ByteBuffer.allocate(Layout.BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        Bitmaps.encode(values, block);
        assertEquals(0b00_11_01_10, block.get(Layout.BITMAP_HEADER) & 0xFF);
        assertEquals(0b00_00_10_00, block.get(Layout.BITMAP_HEADER + 1) & 0xFF);
        assertEquals(0b01_00_00_00, block.get(Layout.BITMAP_HEADER + Layout.ENTRIES_PER_BITMAP / 4 - 1) & 0xFF);
        for (int i = 0; i < Layout.BITMAP_HEADER; i++) {
            assertEquals(0, block.get(i), "the header is not the encoder's");
        }
    }

    @Test
    void decodeUndoesEncode() {
        Random rnd = new Random(7);
        byte[] values = new byte[Layout.ENTRIES_PER_BITMAP];
        for (int i = 0; i < values.length; i++) {
            values[i] = (byte) rnd.nextInt(4);
        }
        ByteBuffer block = ByteBuffer.allocate(Layout.BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        Bitmaps.encode(values, block);
        byte[] back = new byte[Layout.ENTRIES_PER_BITMAP];
        Bitmaps.decode(block, back);
        assertArrayEquals(values, back);
    }
}
