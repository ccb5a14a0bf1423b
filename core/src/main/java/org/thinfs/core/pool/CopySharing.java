package org.thinfs.core.pool;

import org.thinfs.core.format.BlockTime;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies made by ordinary tools (cp, dd, rsync, qemu-img convert) as block sharing: they read a volume and write
 * the same bytes to another, and a write whose whole block holds exactly the bytes a block of another device holds
 * maps the destination to that data block instead of writing a new one.
 *
 * <p>How a copy is recognised: reads that cover whole mapped blocks are remembered by content key
 * ({@link RecentReads}); a write looks up each whole non-zero block it carries, and a block filled from its start by
 * consecutive smaller writes (rsync writes 32 KiB at a time) is looked up once it is complete. While nothing was read
 * recently, writes pay nothing but a clock read.
 *
 * <p>Rules kept here, the same as copy_file_range's ({@link BlockCopier}):
 * <ul>
 *   <li><b>Exact.</b> Under the gate and the locks of both blocks, taken in the one global (device, block) order every
 *       request uses, the source's current mapping is looked up and its data block read and compared byte for byte
 *       with the bytes being written (and, for a block filled by earlier writes, the destination's current bytes too).
 *       A writer to either block holds its lock from plan to publish, so what is compared is what is shared. A key
 *       collision costs one compare, never a wrong block.
 *   <li><b>One metadata step</b> per request: {@code BlockSharing} marks both devices as snapshotted (advancing the
 *       pool's time only when it must), raises the data block's count, releases what the destination mapped there
 *       before, and stamps both mappings before the mark, so both sides copy on their next write.
 *   <li><b>Crash safety</b>: no data moves; the mapping reaches the disk with the next commit, which flushes the data
 *       file first, so the shared block's bytes are on disk before anything points at them twice.
 *   <li>Only blocks of other devices are shared: a copy inside one volume is left to be written, so a disk image
 *       whose guest copies files does not turn every later write into a copy-on-write.
 * </ul>
 */
final class CopySharing {
    /** FUSE and NBD requests carry at most 1 MiB: larger blocks never arrive whole, so they are not watched. */
    static final long MAX_BLOCK_SIZE = 1 << 20;
    private static final int FILLS_TRACKED = 1024;

    private final IoContext io;
    private final int blockSize;
    private final RecentReads recent = new RecentReads();
    /** (device, block) → bytes written so far from the block's start by consecutive writes. LRU, guarded by itself. */
    private final Map<List<Long>, Long> fills = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Long>, Long> eldest) {
            return size() > FILLS_TRACKED;
        }
    };
    private final ThreadLocal<ByteBuffer[]> scratch;
    private volatile boolean enabled;

    /** A block of {@code dst} whose bytes (at {@code pos} of {@code bytes}) may be those of a block of {@code src}. */
    private record Candidate(long src, long srcBlock, long dst, long dstBlock, ByteBuffer bytes, int pos,
                             boolean checkDestination, int index) {
    }

    CopySharing(IoContext io, long blockSize) {
        this.io = io;
        this.blockSize = (int) Math.min(blockSize, Integer.MAX_VALUE);
        // [0] a source block, [1] a destination block, [2] a block filled by consecutive writes
        this.scratch = ThreadLocal.withInitial(() -> new ByteBuffer[]{ByteBuffer.allocateDirect(this.blockSize),
                ByteBuffer.allocateDirect(this.blockSize), ByteBuffer.allocateDirect(this.blockSize)});
    }

    void setEnabled(boolean on) {
        enabled = on && blockSize <= MAX_BLOCK_SIZE;
    }

    boolean enabled() {
        return enabled;
    }

    /** Whether a write now might become a share ({@link #shareWholeBlocks}, {@link #afterWrite}): it needs its bytes. */
    boolean mayShare() {
        return enabled && recent.active();
    }

    /**
     * After a read of {@code device} from byte {@code offset} into {@code buf} (the bytes at [start, start + len)):
     * remembers every whole block that was mapped ({@code mapped[i]}, block i of the read, -1 for a hole).
     */
    void recordRead(long device, long offset, ByteBuffer buf, int start, int len, long[] mapped) {
        if (!enabled) {
            return;
        }
        long first = offset / blockSize;
        for (int i = 0; i < mapped.length; i++) {
            long blockStart = (first + i) * blockSize;
            if (mapped[i] < 0 || blockStart < offset || blockStart + blockSize > offset + len) {
                continue;
            }
            int pos = start + (int) (blockStart - offset);
            if (!ZeroWrites.allZero(buf, pos, blockSize)) {
                recent.record(RecentReads.key(buf, pos, blockSize), device, first + i);
            }
        }
    }

    /**
     * Before a write of {@code src} at {@code offset}: shares each whole block of it, not all zeros, that a block of
     * another device recently read holds byte for byte.
     *
     * @return per block of the write, whether it is now shared and must not be written (null when none is)
     */
    boolean[] shareWholeBlocks(ThinDevice dst, long offset, ByteBuffer src, boolean[] zero) {
        if (!enabled || !recent.active()) {
            return null;
        }
        long first = offset / blockSize;
        long end = offset + src.remaining();
        int n = (int) ((end - 1) / blockSize - first + 1);
        long device = dst.id();
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long blockStart = (first + i) * blockSize;
            if (blockStart < offset || blockStart + blockSize > end) {
                continue;
            }
            int pos = src.position() + (int) (blockStart - offset);
            if (zero != null && zero[i] || zero == null && ZeroWrites.allZero(src, pos, blockSize)) {
                continue;                                  // zeros are ZeroWrites' business, never a copy's
            }
            for (long[] seen : recent.find(RecentReads.key(src, pos, blockSize))) {
                if (seen[0] != device) {
                    candidates.add(new Candidate(seen[0], seen[1], device, first + i, src, pos, false, i));
                }
            }
        }
        if (candidates.isEmpty()) {
            return null;
        }
        boolean[] shared = new boolean[n];
        shareVerified(dst, candidates, shared);
        for (boolean b : shared) {
            if (b) {
                return shared;
            }
        }
        return null;
    }

    /**
     * After a write of [offset, offset + len) to {@code device}: follows blocks filled from their start by
     * consecutive writes, and looks up each one that this write completed.
     *
     * @return how many mappings changed (blocks shared)
     */
    int afterWrite(ThinDevice dst, long offset, long len) {
        if (!enabled || len <= 0 || !recent.active()) {
            return 0;
        }
        long device = dst.id();
        long end = offset + len;
        long firstBlock = offset / blockSize;
        long lastBlock = (end - 1) / blockSize;
        long within = offset % blockSize;
        long endWithin = end - lastBlock * blockSize;
        long completed = -1;
        synchronized (fills) {
            if (within != 0) {
                Long expected = fills.remove(List.of(device, firstBlock));
                if (expected != null && expected == within) {
                    long filled = firstBlock == lastBlock ? endWithin : blockSize;
                    if (filled == blockSize) {
                        completed = firstBlock;
                    } else {
                        fills.put(List.of(device, firstBlock), filled);
                    }
                }
            }
            if (endWithin != blockSize && (lastBlock > firstBlock || within == 0)) {
                fills.put(List.of(device, lastBlock), endWithin);
            }
        }
        return completed < 0 ? 0 : shareFilledBlock(dst, completed);
    }

    private int shareFilledBlock(ThinDevice dst, long block) {
        long device = dst.id();
        ByteBuffer written = scratch.get()[2];
        if (!readMapped(device, block, written) || ZeroWrites.allZero(written, 0, blockSize)) {
            return 0;
        }
        List<Candidate> candidates = new ArrayList<>();
        for (long[] seen : recent.find(RecentReads.key(written, 0, blockSize))) {
            if (seen[0] != device) {
                candidates.add(new Candidate(seen[0], seen[1], device, block, written, 0, true, 0));
            }
        }
        return candidates.isEmpty() ? 0 : shareVerified(dst, candidates, new boolean[1]);
    }

    /**
     * Locks every candidate's two blocks in the global order, keeps for each destination block the first candidate whose source (and, when asked, destination)
     * holds exactly the candidate's bytes now, and shares them in one metadata step.
     *
     * @return how many blocks were shared; {@code shared[index]} is set for each
     */
    private int shareVerified(ThinDevice dst, List<Candidate> candidates, boolean[] shared) {
        List<long[]> keys = new ArrayList<>();
        for (Candidate c : candidates) {
            keys.add(new long[]{c.src, c.srcBlock});
            keys.add(new long[]{c.dst, c.dstBlock});
        }
        keys.sort(Comparator.<long[]>comparingLong(k -> k[0]).thenComparingLong(k -> k[1]));
        List<long[]> locked = new ArrayList<>();
        io.gate().readLock().lock();
        try {
            dst.requireLive();                             // under the gate: its id cannot have been given away
            for (long[] k : keys) {
                if (!locked.isEmpty() && Arrays.equals(locked.get(locked.size() - 1), k)) {
                    continue;
                }
                io.blockLocks().lock(k[0], k[1], k[1]);
                locked.add(k);
            }
            List<Candidate> equal = new ArrayList<>();
            boolean[] found = new boolean[shared.length];
            for (Candidate c : candidates) {              // a block's candidates in turn, newest first
                if (found[c.index]) {
                    continue;
                }
                long dataBlock = verifiedSource(c);
                found[c.index] = dataBlock >= 0;
                if (dataBlock >= 0) {
                    equal.add(c);
                }
            }
            if (equal.isEmpty()) {
                return 0;
            }
            return io.metadata().change(md -> {
                java.util.Set<Long> devices = new java.util.TreeSet<>();
                for (Candidate c : equal) {
                    devices.add(c.src);
                    devices.add(c.dst);
                }
                md.sharing().prepare(devices);         // before any share: both sides copy on write from now on
                int count = 0;
                for (int i = 0; i < equal.size(); i++) {
                    Candidate c = equal.get(i);
                    shared[c.index] = true;            // shared now, or already the same data block
                    if (md.sharing().share(c.src, c.srcBlock, c.dst, c.dstBlock)) {
                        count++;
                    }
                }
                return count;
            });
        } finally {
            for (long[] k : locked) {
                io.blockLocks().unlock(k[0], k[1], k[1]);
            }
            io.gate().readLock().unlock();
        }
    }

    /** The candidate's source data block when it holds exactly the candidate's bytes (checked under its lock), or -1. */
    private long verifiedSource(Candidate c) {
        ByteBuffer[] bufs = scratch.get();
        if (c.checkDestination && !(readMapped(c.dst, c.dstBlock, bufs[1]) && sameBytes(bufs[1], c))) {
            return -1;
        }
        long mapping = lookup(c.src, c.srcBlock);
        if (mapping < 0) {
            return -1;
        }
        long dataBlock = BlockTime.dataBlock(mapping);
        ByteBuffer b = bufs[0].clear();
        io.data().read(dataBlock * blockSize, b);
        b.flip();
        return sameBytes(b, c) ? dataBlock : -1;
    }

    private boolean sameBytes(ByteBuffer block, Candidate c) {
        return block.remaining() == blockSize && block.mismatch(c.bytes.slice(c.pos, blockSize)) == -1;
    }

    /** Reads the data block {@code device} maps at {@code block} into {@code into} (flipped); false when unmapped. */
    private boolean readMapped(long device, long block, ByteBuffer into) {
        long mapping = lookup(device, block);
        if (mapping < 0) {
            return false;
        }
        into.clear();
        io.data().read(BlockTime.dataBlock(mapping) * blockSize, into);
        into.flip();
        return true;
    }

    /** The device's mapping of {@code block}, or -1 when unmapped or when the device is gone (deleted since). */
    private long lookup(long device, long block) {
        return io.metadata().read(md -> md.exists(device) ? md.lookup(device, block) : -1L);
    }
}
