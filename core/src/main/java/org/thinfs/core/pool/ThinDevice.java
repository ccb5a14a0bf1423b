package org.thinfs.core.pool;

import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.format.DeviceDetails;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A thin volume of a {@link ThinPool}: byte-addressed I/O over its mapping tree.
 *
 * <p>Writes, preallocation and the zeroed edges of discards change blocks through {@link BlockChange} (plan,
 * move data, publish; copy on write for shared blocks); whole blocks that repeat a block just read elsewhere are
 * shared by {@link CopySharing} first. Range operations (discard, seek) cost what is mapped, never the range.
 */
public final class ThinDevice {
    /** Mapped blocks unmapped per metadata step of a discard (and locked at once). */
    private static final int UNMAP_BATCH = 4096;
    /** Blocks provisioned per step of {@link #provision} (and locked at once). */
    private static final int PROVISION_BATCH = 1024;

    private final ThinPool pool;
    private final IoContext io;
    private final long id;
    private final long blockSize;
    private final BlockChange blocks;
    /**
     * Set by ThinPool#delete under the gate's write lock: this object stands for a device that is gone, and its id
     * may be given to a new device, so every use checks it (under the gate's read lock where data moves) and fails
     * rather than touch the new device's blocks through an old handle.
     */
    private volatile boolean deleted;

    ThinDevice(ThinPool pool, IoContext io, long id) {
        this.pool = pool;
        this.io = io;
        this.id = id;
        this.blockSize = pool.dataBlockSize();
        this.blocks = new BlockChange(this, io, blockSize);
    }

    void markDeleted() {
        deleted = true;
    }

    void requireLive() {
        if (deleted) {
            throw new org.thinfs.core.NoSuchDeviceException(id);
        }
    }

    public long id() {
        return id;
    }

    /** The pool's data block size in bytes. */
    public long blockSize() {
        return blockSize;
    }

    /** Number of mapped data blocks. */
    public long mappedBlocks() {
        return details().mappedBlocks();
    }

    public DeviceDetails details() {
        return pool.details(id);
    }

    /** Fills {@code dst} from byte {@code offset}; unmapped ranges read as zeros. */
    public void read(long offset, ByteBuffer dst) {
        checkRange(offset, dst.remaining());
        if (!dst.hasRemaining()) {
            return;
        }
        long first = offset / blockSize;
        long last = (offset + dst.remaining() - 1) / blockSize;
        int n = (int) (last - first + 1);
        long[] mapped = new long[n];
        int start = dst.position();
        int length = dst.remaining();
        io.gate().readLock().lock();
        try {
            requireLive();
            java.util.Arrays.fill(mapped, -1);
            io.metadata().read(md -> {
                md.lookupRange(id, first, last + 1,
                        (vblock, dataBlock, time) -> mapped[(int) (vblock - first)] = dataBlock);
                return null;
            });
            DataStore data = io.data();
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
                if (mapped[i] < 0) {
                    DataBuffers.zero(dst, len);
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
        pool.copies().recordRead(id, offset, dst, start, length, mapped);
    }

    /**
     * Writes {@code src} at byte {@code offset}, provisioning unmapped blocks and copying shared ones first.
     *
     * @return how many blocks were newly mapped (provisioned or copied): 0 means the write went in place and changed
     *     no metadata, so it needs no commit to stay reachable, only a data flush to be durable
     * @throws OutOfDataSpaceException when a needed block cannot be allocated and the pool's full handler (autoextend,
     *     when-full=wait) found none either; nothing was written
     */
    public int write(long offset, ByteBuffer src) {
        return write(offset, src, pool.zeroWrites());
    }

    /**
     * As {@link #write(long, ByteBuffer)}, with {@code zeros} saying what zeros do to the mappings (the pool's
     * setting is the default; NBD's WRITE_ZEROES with NO_HOLE asks for KEEP).
     *
     * @return how many mappings changed (provisioned, copied or unmapped blocks)
     */
    public int write(long offset, ByteBuffer src, ZeroWrites zeros) {
        checkRange(offset, src.remaining());
        if (!src.hasRemaining()) {
            return 0;
        }
        boolean[] zero = zeroBlocks(offset, src, zeros);
        int length = src.remaining();
        CopySharing copies = pool.copies();
        boolean[] shared = copies.shareWholeBlocks(this, offset, src, zero);
        int changed = retryingWhenFull(() -> writeOnce(offset, src, zero, zeros, shared));
        if (shared != null) {
            for (boolean s : shared) {
                changed += s ? 1 : 0;
            }
        }
        return changed + copies.afterWrite(this, offset, length);
    }

    /**
     * Provisions every unmapped block that [offset, offset + length) touches, mapped to zeroed data blocks, so that
     * later writes there never need space (fallocate mode 0 and KEEP_SIZE); mapped blocks keep their bytes. Refused
     * up front with {@link OutOfDataSpaceException}, changing nothing, when the free blocks are fewer than the
     * unmapped ones. Costs the blocks it maps.
     *
     * @return how many blocks were provisioned
     */
    public long provision(long offset, long length) {
        checkRange(offset, length);
        if (length == 0) {
            return 0;
        }
        io.metadata().requireWritable();
        long first = offset / blockSize;
        long end = (offset + length - 1) / blockSize + 1;
        long unmapped = (end - first) - countMapped(first, end);
        // The check goes through the full handler like any allocation (autoextend grows the pool, when-full=wait
        // holds the caller). It is atomic against itself only: a writer taking the last blocks between it and the
        // batches below makes a batch fail, leaving the earlier batches provisioned (they read zeros, as before).
        retryingWhenFull(() -> {
            long free = io.metadata().read(md -> md.dataSpace().nrFree());
            if (unmapped > free) {
                throw new OutOfDataSpaceException("cannot preallocate: device " + id + " needs " + unmapped
                        + " new blocks, " + free + " free; nothing was allocated");
            }
            return 0;
        });
        long done = 0;
        for (long b = first; b < end; b += PROVISION_BATCH) {
            long from = b;
            int n = (int) Math.min(PROVISION_BATCH, end - b);
            done += retryingWhenFull(() -> provisionOnce(from, n));
        }
        return done;
    }

    private long countMapped(long first, long end) {
        long count = 0;
        long cursor = first;
        while (cursor < end) {
            long at = cursor;
            List<Long> m = io.metadata().read(md -> md.mappedBlocks(id, at, end, UNMAP_BATCH));
            count += m.size();
            if (m.size() < UNMAP_BATCH) {
                break;
            }
            cursor = m.get(m.size() - 1) + 1;
        }
        return count;
    }

    /** Per block of the write, whether its bytes are all zero (null when zeros are written as data). */
    private boolean[] zeroBlocks(long offset, ByteBuffer src, ZeroWrites zeros) {
        if (zeros == ZeroWrites.KEEP) {
            return null;
        }
        long first = offset / blockSize;
        int n = (int) ((offset + src.remaining() - 1) / blockSize - first + 1);
        boolean[] zero = new boolean[n];
        int pos = src.position();
        for (int i = 0; i < n; i++) {
            long blockStart = (first + i) * blockSize;
            long blockEnd = blockStart > Long.MAX_VALUE - blockSize ? Long.MAX_VALUE : blockStart + blockSize;
            int len = (int) (Math.min(blockEnd, offset + src.remaining()) - Math.max(blockStart, offset));
            zero[i] = ZeroWrites.allZero(src, pos, len);
            pos += len;
        }
        return zero;
    }

    private interface Attempt {
        int run();
    }

    /** Runs an attempt until it finds space, as the pool's full handler says (autoextend, when-full=wait). */
    private int retryingWhenFull(Attempt attempt) {
        long firstFailure = 0;
        while (true) {
            io.metadata().requireWritable();
            try {
                return attempt.run();
            } catch (OutOfDataSpaceException e) {
                // Every lock is released here (the failed plan wrote nothing and left src as it was), so the full
                // handler may grow the pool, which takes the gate, or hold this writer while space is awaited.
                if (firstFailure == 0) {
                    firstFailure = System.nanoTime();
                }
                if (!pool.retryAfterFull(firstFailure)) {
                    throw e;
                }
            }
        }
    }

    /** One attempt at a write; blocks in {@code shared} were shared by CopySharing already and are left alone. */
    private int writeOnce(long offset, ByteBuffer src, boolean[] zero, ZeroWrites zeros, boolean[] shared) {
        long first = offset / blockSize;
        long last = (offset + src.remaining() - 1) / blockSize;
        long endInLast = offset + src.remaining() - last * blockSize;
        boolean[] whole = new boolean[(int) (last - first + 1)];
        for (int i = 0; i < whole.length; i++) {
            whole[i] = (i > 0 || offset % blockSize == 0) && (i < whole.length - 1 || endInLast == blockSize);
        }
        return blocks.change(first, last, (target, source, action) -> {
            for (int i = 0; i < action.length; i++) {
                if (shared != null && shared[i]) {
                    action[i] = BlockChange.SKIP;  // holds these bytes already, shared with the block they came from
                } else if (zero != null && zero[i] && source[i] < 0) {
                    action[i] = BlockChange.SKIP;  // reads as zeros already
                } else if (zero != null && zero[i] && whole[i] && zeros == ZeroWrites.UNMAP) {
                    action[i] = BlockChange.UNMAP;
                }
            }
        }, (target, source, action) -> blocks.moveData(offset, src, first, target, source, action));
    }

    /** Provisions the unmapped blocks of [first, first + n), zero-filled; mapped ones are left as they are. */
    private int provisionOnce(long first, int n) {
        return blocks.change(first, first + n - 1, (target, source, action) -> {
            for (int i = 0; i < n; i++) {
                if (source[i] >= 0) {
                    action[i] = BlockChange.SKIP;
                }
            }
        }, (target, source, action) -> blocks.zeroFill(target, action));
    }

    /**
     * Unmaps every whole data block inside [offset, offset + length) and writes zeros over the partial blocks at
     * either edge, so the range reads as zeros afterwards.
     */
    public void discard(long offset, long length) {
        checkRange(offset, length);
        if (length == 0) {
            return;
        }
        io.metadata().requireWritable();
        long end = offset + length;
        long firstWhole = (offset + blockSize - 1) / blockSize;
        long endWhole = end / blockSize;
        if (firstWhole >= endWhole) {
            zeroRange(offset, length);
            return;
        }
        zeroRange(offset, firstWhole * blockSize - offset);
        zeroRange(endWhole * blockSize, end - endWhole * blockSize);
        io.gate().readLock().lock();
        try {
            requireLive();
            unmapWholeBlocks(firstWhole, endWhole);
        } finally {
            io.gate().readLock().unlock();
        }
    }

    /** The first mapped block in [from, end), or -1. Costs one walk down the tree. */
    public long nextMapped(long from, long end) {
        requireLive();
        List<Long> m = io.metadata().read(md -> md.mappedBlocks(id, from, end, 1));
        return m.isEmpty() ? -1 : m.get(0);
    }

    /** The first unmapped block in [from, end), or -1. Costs the run of mapped blocks that starts at {@code from}. */
    public long nextUnmapped(long from, long end) {
        requireLive();
        long cursor = from;
        while (cursor < end) {
            long at = cursor;
            List<Long> m = io.metadata().read(md -> md.mappedBlocks(id, at, end, UNMAP_BATCH));
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

    /**
     * Unmaps the mapped blocks of [first, end). Cost rule, kept here for every range operation (discard,
     * punch-hole, truncate down): the work follows the blocks that are mapped, found by walking the mapping tree,
     * never the virtual blocks of the range, so an 8 EiB range over a few mappings costs a few lookups. Batches of
     * at most {@link #UNMAP_BATCH} mapped blocks bound the locks held at once; each batch locks exactly the blocks
     * it will change, in ascending order (the order every request locks in), and removes those still mapped then.
     * A write that maps a gap of the range while this runs is ordered after the discard, which lseek, read and
     * the next batch all agree on.
     */
    private void unmapWholeBlocks(long first, long end) {
        long cursor = first;
        while (Long.compareUnsigned(cursor, end) < 0) {
            long from = cursor;
            List<Long> mapped = io.metadata().read(md -> md.mappedBlocks(id, from, end,
                    UNMAP_BATCH));
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

    private void zeroRange(long offset, long length) {
        if (length <= 0) {
            return;
        }
        // Only mapped blocks need zeroing; an unmapped range already reads as zeros.
        long firstBlock = offset / blockSize;
        long lastBlock = (offset + length - 1) / blockSize;
        boolean anyMapped = io.metadata().read(md -> {
            boolean[] found = {false};
            md.lookupRange(id, firstBlock, lastBlock + 1, (v, d, t) -> found[0] = true);
            return found[0];
        });
        if (anyMapped) {
            write(offset, ByteBuffer.allocate((int) length));
        }
    }

    /** The data block mapped at virtual block {@code vblock}, or -1 (for tests and tools). */
    public long mappedDataBlock(long vblock) {
        long v = io.metadata().read(md -> md.lookup(id, vblock));
        return v == -1 ? -1 : BlockTime.dataBlock(v);
    }

    private static void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length < offset) {
            throw new IllegalArgumentException("bad range: offset " + offset + ", length " + length);
        }
    }
}
