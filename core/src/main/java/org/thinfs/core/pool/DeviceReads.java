package org.thinfs.core.pool;

import java.nio.ByteBuffer;

/**
 * Reads of one {@link ThinDevice}: one lookup of the mappings per read, then one data-file read per run of blocks
 * that lie next to each other, zeros for holes, or the base image's bytes where a base shows through. Under the
 * gate's read lock, so a delete or rollback cannot change the mappings between the lookup and the data read.
 */
final class DeviceReads {
    private static final long[] NO_BLOCKS = new long[0];

    private final ThinDevice device;
    private final ThinPool pool;
    private final IoContext io;
    private final long blockSize;

    DeviceReads(ThinDevice device, ThinPool pool, IoContext io, long blockSize) {
        this.device = device;
        this.pool = pool;
        this.io = io;
        this.blockSize = blockSize;
    }

    /** {@link ThinDevice#readReportingHoles}. */
    boolean[] readReportingHoles(long offset, ByteBuffer dst) {
        long first = offset / blockSize;
        long[] mapped = readMapped(offset, dst);
        DeviceBase base = device.base();
        boolean[] holes = new boolean[mapped.length];
        for (int i = 0; i < mapped.length; i++) {
            holes[i] = mapped[i] < 0 && (base == null || !base.covers(first + i, blockSize));
        }
        return holes;
    }

    /**
     * Reads {@code dst.remaining()} bytes at {@code offset} in one lookup of the mappings.
     *
     * @return the data block of each block read ({@code offset / blockSize + i}), or -1 where it was unmapped
     */
    long[] readMapped(long offset, ByteBuffer dst) {
        ThinDevice.checkRange(offset, dst.remaining());
        if (!dst.hasRemaining()) {
            return NO_BLOCKS;
        }
        long first = offset / blockSize;
        long last = (offset + dst.remaining() - 1) / blockSize;
        int n = (int) (last - first + 1);
        long[] mapped = new long[n];
        int start = dst.position();
        int length = dst.remaining();
        io.gate().readLock().lock();
        try {
            device.requireLive();
            java.util.Arrays.fill(mapped, -1);
            io.metadata().read(md -> {
                md.lookupRange(device.id(), first, last + 1,
                        (vblock, dataBlock, time) -> mapped[(int) (vblock - first)] = dataBlock);
                return null;
            });
            DataStore data = io.data();
            DeviceBase base = device.base();
            long within = offset % blockSize;
            int limit = dst.limit();
            // One call per run of blocks that lie next to each other in the data file (a sequentially written
            // volume is mostly one run), and one zero fill per run of unmapped blocks.
            for (int i = 0; i < n; ) {
                int j = i + 1;
                while (j < n && (mapped[i] < 0 ? mapped[j] < 0 : mapped[j] == mapped[j - 1] + 1)) {
                    j++;
                }
                long runBytes = (j - i) * blockSize - within;
                int len = (int) Math.min(runBytes, limit - dst.position());
                if (mapped[i] < 0 && base == null) {
                    DataBuffers.zero(dst, len);
                } else if (mapped[i] < 0) {
                    dst.limit(dst.position() + len);
                    base.read((first + i) * blockSize + within, dst);
                    dst.limit(limit);
                } else {
                    dst.limit(dst.position() + len);
                    data.read(mapped[i] * blockSize + within, dst);
                    dst.limit(limit);
                }
                within = 0;
                i = j;
            }
        } finally {
            io.gate().readLock().unlock();
        }
        pool.copies().recordRead(device.id(), offset, dst, start, length, mapped);
        return mapped;
    }
}
