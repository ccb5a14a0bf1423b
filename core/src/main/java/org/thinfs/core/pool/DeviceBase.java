package org.thinfs.core.pool;

import java.nio.ByteBuffer;

/**
 * What one device shows of its {@link BaseImage}: an unmapped block below {@code limit} reads the image's bytes
 * there, anything at or past it reads zeros. The limit starts as the image's size and only ever shrinks (a volume
 * made smaller shows no more of the image when it grows again, as a file's truncated tail reads zeros).
 *
 * <p>{@code discardZeros}: a discard (punch hole, trim) leaves the range reading zeros, at the cost of mapping
 * zeroed blocks, instead of the default, the image's bytes again (dm-thin's external origin behaves so).
 */
public record DeviceBase(BaseImage image, long limit, boolean discardZeros) {
    public DeviceBase {
        if (limit < 0) {
            throw new IllegalArgumentException("negative base limit " + limit);
        }
        limit = Math.min(limit, image.size());
    }

    /** Whether any byte of block {@code block} (of {@code blockSize} bytes) comes from the image. */
    boolean covers(long block, long blockSize) {
        return block < (limit + blockSize - 1) / blockSize;
    }

    /** Blocks, counted from the start, in which some byte comes from the image. */
    public long coveredBlocks(long blockSize) {
        return (limit + blockSize - 1) / blockSize;
    }

    /** The same view, showing no byte at or past {@code size}. */
    public DeviceBase limitedTo(long size) {
        return size >= limit ? this : new DeviceBase(image, size, discardZeros);
    }

    /** Fills {@code dst} with what an unmapped range from {@code offset} reads. */
    void read(long offset, ByteBuffer dst) {
        if (offset >= limit) {
            DataBuffers.zero(dst, dst.remaining());
            return;
        }
        int own = (int) Math.min(dst.remaining(), limit - offset);
        int end = dst.limit();
        dst.limit(dst.position() + own);
        image.read(offset, dst);
        dst.limit(end);
        if (dst.hasRemaining()) {
            DataBuffers.zero(dst, dst.remaining());
        }
    }
}
