package org.thinfs.core.format;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The block checksum of the dm-thin format: the CRC-32C register (seed 0xFFFFFFFF, not inverted at the end)
 * over bytes 4..4095 of a block, XORed with a per-type constant, stored little-endian in bytes 0..3.
 * {@link CRC32C} inverts at the end, so the register is the complement of {@code getValue()}.
 */
public final class Checksums {
    public static final int SUPERBLOCK_XOR = 160774;
    public static final int NODE_XOR = 121107;
    public static final int BITMAP_XOR = 240779;
    public static final int INDEX_XOR = 160478;

    private Checksums() {
    }

    /** Computes the checksum of {@code block} (a 4096-byte buffer, position ignored) for a type's XOR constant. */
    public static int compute(ByteBuffer block, int xor) {
        CRC32C crc = new CRC32C();
        ByteBuffer body = block.duplicate();
        body.limit(Layout.BLOCK_SIZE).position(4);
        crc.update(body);
        return (int) ~crc.getValue() ^ xor;
    }

    public static int stored(ByteBuffer block) {
        return block.getInt(0);
    }

    public static void store(ByteBuffer block, int xor) {
        block.putInt(0, compute(block, xor));
    }
}
