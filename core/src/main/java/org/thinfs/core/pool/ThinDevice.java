package org.thinfs.core.pool;

import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.format.DeviceDetails;

import java.nio.ByteBuffer;

/**
 * A thin volume of a {@link ThinPool}: byte-addressed I/O over its mapping tree.
 *
 * <p>Writes, preallocation and the zeroed edges of discards change blocks through {@link BlockChange} (plan,
 * move data, publish; copy on write for shared blocks); whole blocks that repeat a block just read elsewhere are
 * shared by {@link CopySharing} first. Range operations (discard, seek) cost what is mapped, never the range.
 */
public final class ThinDevice {
    /** Writes of whole 4 KiB sectors inside one block may go in place under a shared lock (BlockChange). */
    private static final int SECTOR_4K = 4096;

    /** Blocks provisioned per step of {@link #provision} (and locked at once). */
    private static final int PROVISION_BATCH = 1024;

    private final ThinPool pool;
    private final IoContext io;
    private final long id;
    private final long blockSize;
    private final BlockChange blocks;
    private final DeviceRanges ranges;
    private final DeviceReads reads;
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
        this.ranges = new DeviceRanges(this, io, blockSize);
        this.reads = new DeviceReads(this, pool, io, blockSize);
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
        return pool.maps().details(id);
    }

    /** Fills {@code dst} from byte {@code offset}; unmapped ranges read as zeros, or the base image's bytes. */
    public void read(long offset, ByteBuffer dst) {
        reads.readMapped(offset, dst);
    }

    /**
     * As {@link #read}, in the same single lookup, and says which blocks were holes (unmapped, and not shown from a
     * base image: they read zeros): element i is for block {@code offset / blockSize + i}. For NBD's structured
     * reads, which send holes as hole chunks without a second walk of the mappings.
     */
    public boolean[] readReportingHoles(long offset, ByteBuffer dst) {
        return reads.readReportingHoles(offset, dst);
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
     * A write whose bytes {@code src} moves into the data file itself (a splice from a FUSE request's pipe), made
     * only when it can be made in place: every block it touches mapped and not shared since a snapshot, so no block
     * is provisioned, copied, shared or unmapped, and nothing needs the bytes in memory (no zero check: zeros over a
     * mapping are written as data unless the pool unmaps them; no copy sharing while reads are being followed).
     * Under the same gate and block locks as {@link #write}, through {@link BlockChange#change}.
     *
     * @return true when written; false when the write needs {@link #write} (then nothing was done and
     *     {@code src} was not touched)
     */
    public boolean writeInPlaceFrom(long offset, int length, ExternalBytes src) {
        checkRange(offset, length);
        if (length <= 0 || !io.data().takesExternalBytes() || pool.zeroWrites() == ZeroWrites.UNMAP
                || pool.copies().mayShare()) {
            return false;
        }
        long first = offset / blockSize;
        long last = (offset + length - 1) / blockSize;
        boolean[] declined = new boolean[1];
        io.metadata().requireWritable();
        blocks.change(first, last, (target, source, action) -> {
            for (int a : action) {
                declined[0] |= a != BlockChange.IN_PLACE;
            }
            if (declined[0]) {
                java.util.Arrays.fill(action, BlockChange.SKIP);   // allocates nothing, moves nothing
            }
        }, (target, source, action) -> {
            if (!declined[0]) {
                blocks.moveInPlace(offset, length, first, target, src);
            }
        });
        return !declined[0];
    }

    /**
     * Provisions every unmapped block that [offset, offset + length) touches, mapped to zeroed data blocks (to a copy
     * of the base image's block on a volume over one: the bytes read stay the same), so that
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
        long unmapped = (end - first) - ranges.countMapped(first, end);
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

    /** Per block of the write, whether its bytes are all zero (null when zeros are written as data). */
    private boolean[] zeroBlocks(long offset, ByteBuffer src, ZeroWrites zeros) {
        if (zeros == ZeroWrites.KEEP) {
            return null;
        }
        long first = offset / blockSize;
        int n = (int) ((offset + src.remaining() - 1) / blockSize - first + 1);
        boolean[] zero = new boolean[n];
        // With SKIP, zeros only matter where a block is unmapped (they are written as data over a mapping), so a
        // write of a block or more looks the blocks up first and scans only the unmapped ones: zeros written over
        // data (dd if=/dev/zero over a used disk, qemu-img bench's default pattern) cost no scan. A block whose
        // mapping changes in between is still written correctly, only perhaps less thinly. Smaller writes scan at
        // once: a 4 KiB scan costs less than the lookup.
        boolean[] mapped = zeros == ZeroWrites.SKIP && src.remaining() >= blockSize ? mappedBlocks(first, n) : null;
        int pos = src.position();
        for (int i = 0; i < n; i++) {
            long blockStart = (first + i) * blockSize;
            long blockEnd = blockStart > Long.MAX_VALUE - blockSize ? Long.MAX_VALUE : blockStart + blockSize;
            int len = (int) (Math.min(blockEnd, offset + src.remaining()) - Math.max(blockStart, offset));
            zero[i] = (mapped == null || !mapped[i]) && ZeroWrites.allZero(src, pos, len);
            pos += len;
        }
        return zero;
    }

    /** Which of blocks [first, first + n) are mapped now, in one lookup. */
    private boolean[] mappedBlocks(long first, int n) {
        boolean[] mapped = new boolean[n];
        io.metadata().read(md -> {
            md.lookupRange(id, first, first + n, (vblock, dataBlock, time) -> mapped[(int) (vblock - first)] = true);
            return null;
        });
        return mapped;
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
        DeviceBase base = base();
        BlockChange.Step decide = (target, source, action) -> {
            for (int i = 0; i < action.length; i++) {
                // Over a base image, an unmapped block reads the image: zeros there are data like any other.
                boolean unwrittenReadsZeros = base == null || !base.covers(first + i, blockSize);
                if (shared != null && shared[i]) {
                    action[i] = BlockChange.SKIP;  // holds these bytes already, shared with the block they came from
                } else if (zero != null && zero[i] && source[i] < 0 && unwrittenReadsZeros) {
                    action[i] = BlockChange.SKIP;  // reads as zeros already
                } else if (zero != null && zero[i] && whole[i] && zeros == ZeroWrites.UNMAP && unwrittenReadsZeros) {
                    action[i] = BlockChange.UNMAP;
                }
            }
        };
        BlockChange.Step move = (target, source, action) -> blocks.moveData(offset, src, first, target, source, action);
        if (first == last && offset % SECTOR_4K == 0 && src.remaining() % SECTOR_4K == 0
                && src.remaining() < blockSize && blocks.changeInPlaceShared(first, decide, move)) {
            return 0;
        }
        return blocks.change(first, last, decide, move);
    }

    /** Provisions the unmapped blocks of [first, first + n), zero-filled; mapped ones are left as they are. */
    private int provisionOnce(long first, int n) {
        return blocks.change(first, first + n - 1, (target, source, action) -> {
            for (int i = 0; i < n; i++) {
                if (source[i] >= 0) {
                    action[i] = BlockChange.SKIP;
                }
            }
        }, (target, source, action) -> blocks.zeroFill(first, target, action));
    }

    /**
     * A discard (punch hole, trim, unmap): afterwards the range reads as an unwritten range does, zeros, or the base
     * image's bytes on a volume over one (unless it was made with discards that zero). See {@link DeviceRanges}.
     */
    public void discard(long offset, long length) {
        ranges.discard(offset, length);
    }

    /** Afterwards [offset, offset + length) reads zeros (fallocate ZERO_RANGE, NBD WRITE_ZEROES, a diff's zeros). */
    public void zeroOut(long offset, long length) {
        ranges.zeroOut(offset, length);
    }

    /** The first mapped block in [from, end), or -1. Costs one walk down the tree. */
    public long nextMapped(long from, long end) {
        return ranges.nextMapped(from, end);
    }

    /** The first unmapped block in [from, end), or -1. Costs the run of mapped blocks that starts at it. */
    public long nextUnmapped(long from, long end) {
        return ranges.nextUnmapped(from, end);
    }

    /** The first block in [from, end) that holds data (mapped, or shown from a base image), or -1 (SEEK_DATA). */
    public long nextData(long from, long end) {
        return ranges.nextData(from, end);
    }

    /** The first block in [from, end) that reads zeros without a mapping, or -1 (SEEK_HOLE). */
    public long nextHole(long from, long end) {
        return ranges.nextHole(from, end);
    }

    /** The base image this device reads its unmapped blocks from, or null. */
    public DeviceBase base() {
        return pool.bases().get(id);
    }

    /** The data block mapped at virtual block {@code vblock}, or -1 (for tests and tools). */
    public long mappedDataBlock(long vblock) {
        long v = io.metadata().read(md -> md.lookup(id, vblock));
        return v == -1 ? -1 : BlockTime.dataBlock(v);
    }

    static void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length < offset) {
            throw new IllegalArgumentException("bad range: offset " + offset + ", length " + length);
        }
    }
}
