package org.thinfs.core.pool;

import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.format.BlockTime;

import java.nio.ByteBuffer;

/**
 * The one path by which a request changes a device's blocks (write, provision, zero-fill): under the gate and the
 * blocks' locks it <em>plans</em> (looks the blocks up, lets the caller mark blocks to leave alone or unmap, and
 * allocates every new block the request needs, all or nothing, so a full pool fails it before any byte moves),
 * <em>moves data</em> with no metadata lock held, then <em>publishes</em> the mappings in one metadata step. A
 * mapping stamped before the device's latest snapshot may be shared and is never written in place: its block is
 * copied to a new one first (unless the write covers it whole). Data reaches the data file before the commit that
 * maps it, since the commit flushes data first.
 */
final class BlockChange {
    static final int IN_PLACE = 0;
    static final int PROVISION = 1;
    /** Provision a block that already reads as zeros (a punched hole, see KnownZeroBlocks): no zero fill. */
    static final int PROVISION_ON_ZEROS = 3;
    static final int COPY = 2;
    /** Leave the block alone: zeros bound for an unmapped block (ZeroWrites), or a mapped block under provision(). */
    static final int SKIP = 4;
    /** Unmap the block: a whole block of zeros over a mapping, with ZeroWrites.UNMAP. */
    static final int UNMAP = 5;

    private final ThinDevice device;
    private final IoContext io;
    private final long blockSize;

    BlockChange(ThinDevice device, IoContext io, long blockSize) {
        this.device = device;
        this.io = io;
        this.blockSize = blockSize;
    }

    interface Step {
        void run(long[] target, long[] source, int[] action);
    }

    /**
     * The one way a request changes blocks [first, last] of this device: under the gate and the blocks' locks, plan
     * (look up, let {@code decide} mark blocks SKIP or UNMAP, allocate the rest that need it, all or nothing), move
     * data with no metadata lock, then publish the mappings. Every write, provision and zero-fill goes through here,
     * so the when-full retry, the copy-on-write rule and the data-before-metadata order hold for all of them.
     */
    int change(long first, long last, Step decide, Step move) {
        int n = (int) (last - first + 1);
        long[] target = new long[n];
        long[] source = new long[n];
        int[] action = new int[n];
        io.gate().readLock().lock();
        io.blockLocks().lock(device.id(), first, last);
        try {
            device.requireLive();
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
            io.blockLocks().unlock(device.id(), first, last);
            io.gate().readLock().unlock();
        }
    }

    /**
     * A write of whole 4 KiB sectors inside one block, smaller than the block, into a block that is mapped and not
     * shared: it changes no mapping, so it needs no exclusive lock. Taken shared, so several such writes into one
     * block (an NBD client's 4 KiB writes at queue depth 16 land 16 to a 64 KiB block) go at once.
     *
     * <p>Why that is safe: everything that changes a block's mapping or reads its bytes to move them (provision,
     * copy on write, discard, copy sharing, copy_file_range) locks it exclusively, so it waits for these writes and
     * they wait for it; a snapshot takes the gate, which every write holds. The writes themselves touch disjoint or
     * overlapping whole sectors of one data block, each with a single positional write: no read-modify-write (the
     * O_DIRECT store's bounce buffers read only partial sectors), so none can undo another's bytes. Two overlapping
     * writes in flight at once land in either order, as on any disk. Whole-block writes keep the exclusive lock:
     * those may share or unmap the block.
     *
     * @return true if the write was made here; false (nothing done) when the block needs {@link #change}
     */
    boolean changeInPlaceShared(long block, Step decide, Step move) {
        long[] target = new long[1];
        long[] source = {-1};
        int[] action = {PROVISION};
        io.gate().readLock().lock();
        io.blockLocks().lockShared(device.id(), block);
        try {
            device.requireLive();
            io.metadata().requireWritable();   // as change()'s plan, which refuses on a pool gone read-only
            long[] found = io.metadata().read(md -> new long[] {md.lookup(device.id(), block),
                    md.details(device.id()).snapshottedTime()});
            if (found[0] == -1 || BlockTime.time(found[0]) < found[1]) {
                return false;                       // unmapped (provision) or shared since a snapshot (copy)
            }
            source[0] = BlockTime.dataBlock(found[0]);
            action[0] = IN_PLACE;
            decide.run(target, source, action);
            if (action[0] != IN_PLACE) {
                return false;
            }
            target[0] = source[0];
            move.run(target, source, action);
            return true;
        } finally {
            io.blockLocks().unlockShared(device.id(), block);
            io.gate().readLock().unlock();
        }
    }

    private void plan(long first, int n, long[] target, long[] source, int[] action, Step decide) {
        io.metadata().change(md -> {
            int snapTime = md.details(device.id()).snapshottedTime();
            java.util.Arrays.fill(source, -1);
            java.util.Arrays.fill(action, PROVISION);
            md.lookupRange(device.id(), first, first + n, (vblock, dataBlock, time) -> {
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
                throw new OutOfDataSpaceException("pool data space is full: device " + device.id() + " needs "
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

    /**
     * Provision's data step for blocks [first, ...): a new block reads zeros (a known-zero one already does), or,
     * where a base image shows through, a copy of the image's block, so provisioning changes no byte read.
     */
    void zeroFill(long first, long[] target, int[] action) {
        DeviceBase base = device.base();
        for (int i = 0; i < target.length; i++) {
            if (base != null && fromBase(base, first + i, action[i])) {
                copyUp(base, first + i, target[i]);
            } else if (action[i] == PROVISION) {
                io.data().writeZeros(target[i] * blockSize, blockSize);
            }
        }
    }

    /** Whether a new block for virtual block {@code vblock} starts as a copy of the base image's block. */
    private boolean fromBase(DeviceBase base, long vblock, int action) {
        return (action == PROVISION || action == PROVISION_ON_ZEROS) && base.covers(vblock, blockSize);
    }

    /**
     * The first write to an unmapped block over a base image: the image's block goes into the new data block, then
     * the write's own bytes over it (dm-thin copies from the external origin the same way). Under the block's lock,
     * before the mapping is published, so nothing reads the half-made block.
     */
    private void copyUp(DeviceBase base, long vblock, long dataBlock) {
        ByteBuffer buf = ByteBuffer.allocate((int) blockSize);
        base.read(vblock * blockSize, buf);
        buf.flip();
        io.data().write(dataBlock * blockSize, buf);
    }

    /**
     * The data step of a write in place whose bytes are outside the heap ({@link ThinDevice#writeInPlaceFrom}): one
     * move per run of target blocks that are next to each other in the data file, in the order of the bytes.
     */
    void moveInPlace(long offset, int length, long first, long[] target, ExternalBytes src) {
        DataStore data = io.data();
        long within = offset - first * blockSize;
        int left = length;
        for (int i = 0; i < target.length && left > 0; ) {
            int j = i + 1;
            while (j < target.length && target[j] == target[j - 1] + 1) {
                j++;
            }
            int len = (int) Math.min((j - i) * blockSize - within, left);
            data.writeInPlaceFrom(target[i] * blockSize + within, len, src);
            left -= len;
            within = 0;
            i = j;
        }
    }

    void moveData(long offset, ByteBuffer src, long first, long[] target, long[] source, int[] action) {
        DataStore data = io.data();
        DeviceBase base = device.base();
        int n = target.length;
        long within = offset - first * blockSize;
        long endWithin = (offset + src.remaining()) - (first + n - 1) * blockSize; // bytes written in the last block
        // A partial write to a new block: the rest of the block is zeros (provision) or the old content (copy).
        // Only the first and the last block can be partial.
        for (int edge = 0; edge < Math.min(n, 2); edge++) {
            int i = edge == 0 ? 0 : n - 1;
            long from = i == 0 ? within : 0;
            long to = i == n - 1 ? endWithin : blockSize;
            if (from == 0 && to == blockSize) {
                continue;
            }
            if (base != null && fromBase(base, first + i, action[i])) {
                copyUp(base, first + i, target[i]);
                continue;
            }
            if (action[i] == IN_PLACE || action[i] == PROVISION_ON_ZEROS || action[i] == SKIP || action[i] == UNMAP) {
                // In place: the rest is the block's own. On zeros: the block is a hole this pool punched and nothing
                // wrote since (KnownZeroBlocks), so the rest already reads as zeros, and stays so after a crash: if
                // the mapping never commits the block is free and is punched again at the next open.
                continue;
            }
            long at = target[i] * blockSize;
            if (action[i] == COPY) {
                data.copy(source[i] * blockSize, at, blockSize);
            } else {
                data.writeZeros(at, from);
                data.writeZeros(at + to, blockSize - to);
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
                boolean inPlace = true;
                for (int k = i; k < j && inPlace; k++) {
                    inPlace = action[k] == IN_PLACE;
                }
                if (inPlace) {
                    data.writeInPlace(target[i] * blockSize + within, src);
                } else {
                    data.write(target[i] * blockSize + within, src);
                }
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
                    md.insert(device.id(), first + i, target[i]);
                } else if (action[i] == UNMAP) {
                    md.remove(device.id(), first + i);
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
}
