package org.thinfs.core.pool;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A device's range operations: discard, zero-out and the searches for data and holes.
 *
 * <p>Cost rule, kept here for every one of them (discard, punch-hole, truncate down, lseek, block status): the work
 * follows the blocks that are mapped, found by walking the mapping tree, never the virtual blocks of the range, so
 * an 8 EiB range over a few mappings costs a few lookups. On a volume over a base image the blocks the image covers
 * count as mapped: they hold data whether or not the pool maps them.
 *
 * <p>What a discard leaves: the range reads as a range nothing wrote, zeros on a plain volume, the image's bytes
 * on a volume over a base image (dm-thin's external origin), unless that volume was made with discards that zero
 * ({@link DeviceBase#discardZeros()}). Whole blocks are unmapped; the partial blocks at either edge get the bytes an
 * unwritten range reads, written as data (only where a block is mapped: an unmapped block reads them already).
 * Zero-out always leaves zeros: on a plain volume it is the discard, over a base image it writes zeros where the
 * image shows through.
 */
final class DeviceRanges {
    /** Mapped blocks unmapped per metadata step of a discard (and locked at once). */
    private static final int UNMAP_BATCH = 4096;
    /** Zeros written per request of a zero-out over a base image. */
    private static final int ZERO_CHUNK = 1 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();

    private final ThinDevice device;
    private final IoContext io;
    private final long blockSize;

    DeviceRanges(ThinDevice device, IoContext io, long blockSize) {
        this.device = device;
        this.io = io;
        this.blockSize = blockSize;
    }

    void discard(long offset, long length) {
        checkRange(offset, length);
        DeviceBase base = device.base();
        if (base != null && base.discardZeros()) {
            zeroOut(offset, length);
        } else {
            unwrite(offset, length);
        }
    }

    void zeroOut(long offset, long length) {
        checkRange(offset, length);
        DeviceBase base = device.base();
        long end = offset + length;
        long covered = base == null ? 0 : base.coveredBlocks(blockSize) * blockSize;
        if (offset < covered) {
            long stop = Math.min(end, covered);
            for (long at = offset; at < stop; at += ZERO_CHUNK) {
                int n = (int) Math.min(ZERO_CHUNK, stop - at);
                device.write(at, ZEROS.duplicate().limit(n), ZeroWrites.KEEP);
            }
            offset = stop;
        }
        if (offset < end) {
            unwrite(offset, end - offset);               // past what the image covers: a discard leaves zeros
        }
    }

    /** Makes [offset, offset + length) read as if never written: whole blocks unmapped, edges rewritten. */
    private void unwrite(long offset, long length) {
        if (length == 0) {
            return;
        }
        io.metadata().requireWritable();
        long end = offset + length;
        long firstWhole = (offset + blockSize - 1) / blockSize;
        long endWhole = end / blockSize;
        if (firstWhole >= endWhole) {
            rewriteEdge(offset, length);
            return;
        }
        rewriteEdge(offset, firstWhole * blockSize - offset);
        rewriteEdge(endWhole * blockSize, end - endWhole * blockSize);
        io.gate().readLock().lock();
        try {
            device.requireLive();
            unmapWholeBlocks(firstWhole, endWhole);
        } finally {
            io.gate().readLock().unlock();
        }
    }

    /** A partial block of a discard: where it is mapped, it gets the bytes an unmapped range reads. */
    private void rewriteEdge(long offset, long length) {
        if (length <= 0) {
            return;
        }
        long firstBlock = offset / blockSize;
        long lastBlock = (offset + length - 1) / blockSize;
        boolean anyMapped = io.metadata().read(md -> {
            boolean[] found = {false};
            md.lookupRange(device.id(), firstBlock, lastBlock + 1, (v, d, t) -> found[0] = true);
            return found[0];
        });
        if (!anyMapped) {
            return;
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) length);
        DeviceBase base = device.base();
        if (base == null) {
            device.write(offset, bytes);
        } else {
            base.read(offset, bytes);
            bytes.flip();
            device.write(offset, bytes, ZeroWrites.KEEP);
        }
    }

    /**
     * Unmaps the mapped blocks of [first, end). Batches of at most {@link #UNMAP_BATCH} mapped blocks bound the
     * locks held at once; each batch locks exactly the blocks it will change, in ascending order (the order every
     * request locks in), and removes those still mapped then. A write that maps a gap of the range while this runs
     * is ordered after the discard, which lseek, read and the next batch all agree on.
     */
    private void unmapWholeBlocks(long first, long end) {
        long id = device.id();
        long cursor = first;
        while (Long.compareUnsigned(cursor, end) < 0) {
            long from = cursor;
            List<Long> mapped = io.metadata().read(md -> md.mappedBlocks(id, from, end, UNMAP_BATCH));
            if (mapped.isEmpty()) {
                return;
            }
            int locked = 0;
            try {
                for (long v : mapped) {
                    io.blockLocks().lock(id, v, v);
                    locked++;
                }
                io.metadata().change(md -> {
                    for (long v : mapped) {
                        md.remove(id, v);
                    }
                    return null;
                });
            } finally {
                for (int i = 0; i < locked; i++) {
                    io.blockLocks().unlock(id, mapped.get(i), mapped.get(i));
                }
            }
            cursor = mapped.get(mapped.size() - 1) + 1;
        }
    }

    long nextMapped(long from, long end) {
        device.requireLive();
        List<Long> m = io.metadata().read(md -> md.mappedBlocks(device.id(), from, end, 1));
        return m.isEmpty() ? -1 : m.get(0);
    }

    long nextUnmapped(long from, long end) {
        device.requireLive();
        long cursor = from;
        while (cursor < end) {
            long at = cursor;
            List<Long> m = io.metadata().read(md -> md.mappedBlocks(device.id(), at, end, UNMAP_BATCH));
            for (long v : m) {
                if (v != cursor) {
                    return cursor;
                }
                cursor++;
            }
            if (m.size() < UNMAP_BATCH) {
                return cursor < end ? cursor : -1;
            }
        }
        return -1;
    }

    long nextData(long from, long end) {
        if (from < covered() && from < end) {
            device.requireLive();
            return from;
        }
        return nextMapped(from, end);
    }

    long nextHole(long from, long end) {
        long start = Math.max(from, covered());
        return start >= end ? -1 : nextUnmapped(start, end);
    }

    /** Blocks from the start that the base image shows through (0 without one). */
    private long covered() {
        DeviceBase base = device.base();
        return base == null ? 0 : base.coveredBlocks(blockSize);
    }

    long countMapped(long first, long end) {
        long count = 0;
        long cursor = first;
        while (cursor < end) {
            long at = cursor;
            List<Long> m = io.metadata().read(md -> md.mappedBlocks(device.id(), at, end, UNMAP_BATCH));
            count += m.size();
            if (m.size() < UNMAP_BATCH) {
                break;
            }
            cursor = m.get(m.size() - 1) + 1;
        }
        return count;
    }

    private static void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length < offset) {
            throw new IllegalArgumentException("bad range: offset " + offset + ", length " + length);
        }
    }
}
