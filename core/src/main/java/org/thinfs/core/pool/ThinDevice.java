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
 * <p>A write runs in three steps: under the metadata lock it plans every block it touches and allocates the new
 * data blocks it needs (all or nothing, so a full pool fails the request before any byte moves); then it moves
 * data with no metadata lock held; then, under the metadata lock again, it publishes the new mappings. A mapping
 * stamped before the device's latest snapshot may be shared and is never written in place: its block is copied to
 * a new one first (unless the write covers it whole).
 */
public final class ThinDevice {
    /** Mapped blocks unmapped per metadata step of a discard (and locked at once). */
    private static final int UNMAP_BATCH = 4096;
    private static final int IN_PLACE = 0;
    private static final int PROVISION = 1;
    /** Provision a block that already reads as zeros (a punched hole, see KnownZeroBlocks): no zero fill. */
    private static final int PROVISION_ON_ZEROS = 3;
    private static final int COPY = 2;
    /** Leave the block alone: zeros bound for an unmapped block (ZeroWrites), or a mapped block under provision(). */
    private static final int SKIP = 4;
    /** Unmap the block: a whole block of zeros over a mapping, with ZeroWrites.UNMAP. */
    private static final int UNMAP = 5;
    /** Blocks provisioned per step of {@link #provision} (and locked at once). */
    private static final int PROVISION_BATCH = 1024;

    private final ThinPool pool;
    private final IoContext io;
    private final long id;
    private final long blockSize;
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
        return change(first, last, (target, source, action) -> {
            for (int i = 0; i < action.length; i++) {
                if (shared != null && shared[i]) {
                    action[i] = SKIP;              // holds these bytes already, shared with the block they came from
                } else if (zero != null && zero[i] && source[i] < 0) {
                    action[i] = SKIP;              // reads as zeros already
                } else if (zero != null && zero[i] && whole[i] && zeros == ZeroWrites.UNMAP) {
                    action[i] = UNMAP;
                }
            }
        }, (target, source, action) -> moveData(offset, src, first, target, source, action));
    }

    /** Provisions the unmapped blocks of [first, first + n), zero-filled; mapped ones are left as they are. */
    private int provisionOnce(long first, int n) {
        return change(first, first + n - 1, (target, source, action) -> {
            for (int i = 0; i < n; i++) {
                if (source[i] >= 0) {
                    action[i] = SKIP;
                }
            }
        }, (target, source, action) -> zeroFill(target, action));
    }

    private interface Step {
        void run(long[] target, long[] source, int[] action);
    }

    /**
     * The one way a request changes blocks [first, last] of this device: under the gate and the blocks' locks, plan
     * (look up, let {@code decide} mark blocks SKIP or UNMAP, allocate the rest that need it, all or nothing), move
     * data with no metadata lock, then publish the mappings. Every write, provision and zero-fill goes through here,
     * so the when-full retry, the copy-on-write rule and the data-before-metadata order hold for all of them.
     */
    private int change(long first, long last, Step decide, Step move) {
        int n = (int) (last - first + 1);
        long[] target = new long[n];
        long[] source = new long[n];
        int[] action = new int[n];
        io.gate().readLock().lock();
        io.blockLocks().lock(id, first, last);
        try {
            requireLive();
            plan(first, n, target, source, action, decide);
            try {
                move.run(target, source, action);
            } catch (RuntimeException e) {
                releaseNew(n, target, action);
                throw e;
            }
            int mapped = countChanged(action, n);
            if (mapped > 0) {
                publish(first, n, target, action);
            }
            return mapped;
        } finally {
            io.blockLocks().unlock(id, first, last);
            io.gate().readLock().unlock();
        }
    }

    private void plan(long first, int n, long[] target, long[] source, int[] action, Step decide) {
        io.metadata().change(md -> {
            int snapTime = md.details(id).snapshottedTime();
            java.util.Arrays.fill(source, -1);
            java.util.Arrays.fill(action, PROVISION);
            md.lookupRange(id, first, first + n, (vblock, dataBlock, time) -> {
                int i = (int) (vblock - first);
                source[i] = dataBlock;
                action[i] = time < snapTime ? COPY : IN_PLACE;
            });
            decide.run(target, source, action);
            int allocated = 0;
            try {
                for (int i = 0; i < n; i++) {
                    if (action[i] == IN_PLACE) {
                        target[i] = source[i];
                    } else if (action[i] == SKIP || action[i] == UNMAP) {
                        target[i] = -1;
                    } else {
                        target[i] = md.dataSpace().allocate();
                        allocated = i + 1;
                        boolean zeros = io.committer().takeKnownZero(target[i]); // a copy target leaves the set too
                        if (action[i] == PROVISION && zeros) {
                            action[i] = PROVISION_ON_ZEROS;
                        }
                    }
                }
            } catch (OutOfDataSpaceException e) {
                for (int i = 0; i < allocated; i++) {
                    if (allocates(action[i])) {
                        md.dataSpace().dec(target[i]);
                    }
                }
                throw new OutOfDataSpaceException("pool data space is full: device " + id + " needs "
                        + countAllocating(action, n) + " new blocks, " + md.dataSpace().nrFree() + " free");
            }
            return null;
        });
    }

    private static boolean allocates(int action) {
        return action == PROVISION || action == PROVISION_ON_ZEROS || action == COPY;
    }

    private static int countAllocating(int[] action, int n) {
        int c = 0;
        for (int i = 0; i < n; i++) {
            if (allocates(action[i])) {
                c++;
            }
        }
        return c;
    }

    /** Mappings the request changes: new blocks and unmapped ones. */
    private static int countChanged(int[] action, int n) {
        int c = 0;
        for (int i = 0; i < n; i++) {
            if (allocates(action[i]) || action[i] == UNMAP) {
                c++;
            }
        }
        return c;
    }

    /** Provision's data step: a new block reads zeros (a known-zero one already does). */
    private void zeroFill(long[] target, int[] action) {
        for (int i = 0; i < target.length; i++) {
            if (action[i] == PROVISION) {
                io.data().writeZeros(target[i] * blockSize, blockSize);
            }
        }
    }

    private void moveData(long offset, ByteBuffer src, long first, long[] target, long[] source, int[] action) {
        DataStore data = io.data();
        int n = target.length;
        long within = offset - first * blockSize;
        long endWithin = (offset + src.remaining()) - (first + n - 1) * blockSize; // bytes written in the last block
        // A partial write to a new block: the rest of the block is zeros (provision) or the old content (copy).
        // Only the first and the last block can be partial.
        for (int edge = 0; edge < Math.min(n, 2); edge++) {
            int i = edge == 0 ? 0 : n - 1;
            long from = i == 0 ? within : 0;
            long to = i == n - 1 ? endWithin : blockSize;
            if (action[i] == IN_PLACE || action[i] == PROVISION_ON_ZEROS || action[i] == SKIP || action[i] == UNMAP
                    || (from == 0 && to == blockSize)) {
                // In place: the rest is the block's own. On zeros: the block is a hole this pool punched and nothing
                // wrote since (KnownZeroBlocks), so the rest already reads as zeros, and stays so after a crash: if
                // the mapping never commits the block is free and is punched again at the next open.
                continue;
            }
            long base = target[i] * blockSize;
            if (action[i] == COPY) {
                data.copy(source[i] * blockSize, base, blockSize);
            } else {
                data.writeZeros(base, from);
                data.writeZeros(base + to, blockSize - to);
            }
        }
        // Then the bytes themselves: one call per run of target blocks that are next to each other in the data
        // file (sequential writes and fresh allocations mostly are).
        // Blocks left alone (SKIP, UNMAP) only move the source past their bytes.
        int limit = src.limit();
        for (int i = 0; i < n; ) {
            boolean leave = action[i] == SKIP || action[i] == UNMAP;
            int j = i + 1;
            while (j < n && !leave && target[j] == target[j - 1] + 1 && action[j] != SKIP && action[j] != UNMAP) {
                j++;
            }
            long runBytes = (j - i) * blockSize - within;
            int len = (int) Math.min(runBytes, limit - src.position());
            if (leave) {
                src.position(src.position() + len);
            } else {
                src.limit(src.position() + len);
                data.write(target[i] * blockSize + within, src);
                src.limit(limit);
            }
            within = 0;
            i = j;
        }
    }

    private void publish(long first, int n, long[] target, int[] action) {
        io.metadata().change(md -> {
            for (int i = 0; i < n; i++) {
                if (allocates(action[i])) {
                    md.insert(id, first + i, target[i]);
                } else if (action[i] == UNMAP) {
                    md.remove(id, first + i);
                }
            }
            return null;
        });
    }

    private void releaseNew(int n, long[] target, int[] action) {
        try {
            io.metadata().change(md -> {
                for (int i = 0; i < n; i++) {
                    if (allocates(action[i])) {
                        md.dataSpace().dec(target[i]);
                    }
                }
                return null;
            });
        } catch (ThinfsException ignored) {
            // The pool already went read-only and rolled back; nothing of this request was published.
        }
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
