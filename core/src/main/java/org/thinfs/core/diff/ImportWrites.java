package org.thinfs.core.diff;

import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ZeroWrites;

import java.nio.ByteBuffer;

/**
 * How a diff stream's data lands on a volume, so that imports stay thin: zeros go through {@link ZeroWrites#UNMAP}
 * (a whole block of zeros provisions nothing, and unmaps a mapped block, which then reads zeros either way), and a
 * whole block whose incoming bytes equal what the volume already reads there is not written at all. The last is
 * what keeps an rbd import from copying: rbd resends the unchanged parts of every changed 4 MiB object, and
 * rewriting them would break their sharing with the previous snapshot. The comparison reads only blocks the volume
 * maps (an unmapped block reads zeros, and zeros are the first case), and costs one read and one vectorized compare
 * where the write it saves would have cost a copy-on-write. Partial blocks are written as they come.
 */
public final class ImportWrites {
    private final ThinDevice device;
    private final long blockSize;
    private final ByteBuffer current;

    public ImportWrites(ThinDevice device, long blockSize) {
        this.device = device;
        this.blockSize = blockSize;
        this.current = ByteBuffer.allocate((int) blockSize);
    }

    /** Writes {@code data} (position to limit) at byte {@code offset}, skipping whole blocks that hold it already. */
    public void write(long offset, ByteBuffer data) {
        int start = data.position();
        int end = data.limit();
        int runStart = start;                              // the pending run of bytes to write: [runStart, pos)
        int pos = start;
        while (pos < end) {
            long at = offset + (pos - start);
            long blockEnd = (at / blockSize + 1) * blockSize;
            int n = (int) Math.min(end - pos, blockEnd - at);
            if (n == blockSize && holdsAlready(at, data, pos)) {
                flush(offset, data, start, runStart, pos);
                runStart = pos + n;
            }
            pos += n;
        }
        flush(offset, data, start, runStart, end);
        data.position(end);
    }

    /**
     * Whether the whole block at {@code at} is mapped and reads exactly {@code data}'s block at {@code pos}, which is
     * not all zeros: a block of zeros mapped there (left by a partial write of zeros) is unmapped by the zero path
     * instead of kept.
     */
    private boolean holdsAlready(long at, ByteBuffer data, int pos) {
        if (device.mappedDataBlock(at / blockSize) < 0 || ZeroWrites.allZero(data, pos, (int) blockSize)) {
            return false;
        }
        current.clear();
        device.read(at, current);
        current.flip();
        return current.mismatch(data.slice(pos, (int) blockSize)) == -1;
    }

    private void flush(long offset, ByteBuffer data, int start, int from, int to) {
        if (to > from) {
            device.write(offset + (from - start), data.slice(from, to - from), ZeroWrites.UNMAP);
        }
    }
}
