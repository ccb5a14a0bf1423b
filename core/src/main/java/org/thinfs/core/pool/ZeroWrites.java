package org.thinfs.core.pool;

import java.nio.ByteBuffer;

/**
 * What a write of zeros does to the volume's mappings (the mount's {@code zeroes=} setting):
 * <ul>
 *   <li>{@link #SKIP} (default): zeros bound for a block the volume does not map are not written and provision
 *       nothing, since that block reads as zeros already; zeros over a mapped block are written as any bytes are.
 *   <li>{@link #UNMAP}: as SKIP, and a whole block of zeros over a mapped block unmaps it (it then reads zeros with no
 *       block behind it), as qemu's detect-zeroes=unmap.
 *   <li>{@link #KEEP}: zeros are data like any other (provisioned), for users who preallocate by writing zeros.
 * </ul>
 * The check is one vectorized compare ({@link ByteBuffer#mismatch}) that stops at the first non-zero byte, so
 * ordinary data pays for a few bytes of it.
 */
public enum ZeroWrites {
    KEEP, SKIP, UNMAP;

    private static final int CHUNK = 64 << 10;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();

    /** The setting's name as the mount option takes it. */
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static ZeroWrites of(String s) {
        for (ZeroWrites z : values()) {
            if (z.wire().equals(s)) {
                return z;
            }
        }
        throw new IllegalArgumentException("zeroes is keep, skip or unmap, not '" + s + "'");
    }

    /** Whether bytes [pos, pos + len) of {@code buf} (absolute positions) are all zero. */
    public static boolean allZero(ByteBuffer buf, int pos, int len) {
        while (len > 0) {
            int n = Math.min(len, CHUNK);
            if (buf.slice(pos, n).mismatch(ZEROS.slice(0, n)) != -1) {
                return false;
            }
            pos += n;
            len -= n;
        }
        return true;
    }
}
