package org.thinfs.core.sm;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.format.Layout;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Reference counts held in memory, in chunks of 16 320 entries (one chunk per on-disk bitmap), with the
 * bookkeeping the persistent maps need to write only what changed.
 *
 * <p>Per chunk: {@code counts} holds min(count, 3), exactly as a 2-bit bitmap entry; counts of 3 or more are in
 * {@link #overflow}, as the on-disk ref-count tree holds them. {@code committed} marks blocks allocated in the last
 * committed state and {@code unavailable} = allocated now OR allocated when committed, so allocation is one
 * {@link BitSet#nextClearBit} away and never reuses a block freed in this transaction.
 */
public class CoreSpaceMap implements SpaceMap {
    static final int ENTRIES = Layout.ENTRIES_PER_BITMAP;

    /** One bitmap's worth of counts. */
    static final class Chunk {
        final byte[] counts = new byte[ENTRIES];
        /** counts[i] != 0, kept as counts change, so a commit copies words instead of testing 16 320 bytes. */
        final BitSet allocated = new BitSet(ENTRIES);
        final BitSet unavailable = new BitSet(ENTRIES);
        final BitSet committed = new BitSet(ENTRIES);
        /** Content differs from what its bitmap block on disk holds. */
        boolean dirty;
        /** Changed since the last commit (committed bits need recomputing). */
        boolean touched;
        /** Location of this chunk's bitmap block (the shadow, once written in this transaction); 0 if none yet. */
        long bitmapBlock;
    }

    final List<Chunk> chunks = new ArrayList<>();
    /** Exact counts of blocks whose count is 3 or more. */
    final Map<Long, Integer> overflow = new HashMap<>();
    /** Blocks whose ref-count tree entry must be rewritten (inserted, updated or removed) at commit. */
    final TreeSet<Long> overflowDirty = new TreeSet<>();
    private final Supplier<ThinfsException> exhausted;
    private final String what;
    private long nrBlocks;
    private long nrAllocated;
    private long nrAvailable;
    private long cursor;
    private long thresholdFree = -1;
    private Runnable thresholdCallback;
    private boolean thresholdFired;
    private java.util.function.LongConsumer freeListener = b -> { };

    public CoreSpaceMap(String what, long nrBlocks, Supplier<ThinfsException> exhausted) {
        this.what = what;
        this.exhausted = exhausted;
        extend(nrBlocks);
        // A brand-new map: every chunk is written at the first commit.
        for (Chunk c : chunks) {
            c.dirty = true;
        }
    }

    @Override
    public long nrBlocks() {
        return nrBlocks;
    }

    @Override
    public long nrFree() {
        return nrAvailable;
    }

    @Override
    public long nrAllocated() {
        return nrAllocated;
    }

    @Override
    public int count(long block) {
        checkRange(block);
        Chunk c = chunks.get((int) (block / ENTRIES));
        int v = c.counts[(int) (block % ENTRIES)];
        return v < 3 ? v : overflow.get(block);
    }

    @Override
    public void inc(long block) {
        int old = count(block);
        if (old == Integer.MAX_VALUE) {
            throw new CorruptMetadataException(block, what + " reference count overflow");
        }
        store(block, old, old + 1);
    }

    @Override
    public void dec(long block) {
        int old = count(block);
        if (old == 0) {
            throw new CorruptMetadataException(block, what + " block " + block
                    + " released more often than it was referenced");
        }
        store(block, old, old - 1);
    }

    @Override
    public void setCount(long block, int count) {
        if (count < 0) {
            throw new IllegalArgumentException("negative count " + count);
        }
        store(block, count(block), count);
    }

    @Override
    public long allocate() {
        long b = findFree(cursor);
        if (b < 0 && cursor > 0) {
            b = findFree(0);
        }
        if (b < 0) {
            throw exhausted.get();
        }
        store(b, 0, 1);
        cursor = b + 1 >= nrBlocks ? 0 : b + 1;
        return b;
    }

    @Override
    public void extend(long extra) {
        if (extra < 0) {
            throw new IllegalArgumentException("cannot shrink a space map");
        }
        long newSize = nrBlocks + extra;
        long needChunks = Layout.bitmapCount(newSize);
        while (chunks.size() < needChunks) {
            Chunk c = new Chunk();
            c.dirty = true;
            c.touched = true;
            chunks.add(c);
        }
        // Entries past the old end in the previously last chunk were free but never counted as available.
        nrAvailable += extra;
        nrBlocks = newSize;
        // Index entries of a partially filled chunk change with the size.
        if (!chunks.isEmpty()) {
            chunks.get(chunks.size() - 1).dirty = true;
        }
        thresholdFired = false;
    }

    /** Called with every block whose count drops to zero (the pool punches freed data blocks after commit). */
    public void setFreeListener(java.util.function.LongConsumer listener) {
        this.freeListener = listener;
    }

    @Override
    public void setThreshold(long freeBlocks, Runnable callback) {
        this.thresholdFree = freeBlocks;
        this.thresholdCallback = callback;
        this.thresholdFired = false;
        checkThreshold();
    }

    /** After a commit: the current state becomes the committed state. */
    public void markCommitted() {
        long available = 0;
        for (int k = 0; k < chunks.size(); k++) {
            Chunk c = chunks.get(k);
            if (c.touched) {
                c.committed.clear();
                c.committed.or(c.allocated);
                c.unavailable.clear();
                c.unavailable.or(c.committed);
                c.touched = false;
            }
            available += entriesIn(k) - c.unavailable.cardinality();
        }
        nrAvailable = available;
        // Re-arm only well above the mark, so a pool hovering at the mark does not warn on every commit.
        if (nrAvailable > thresholdFree + Math.max(1, thresholdFree / 2)) {
            thresholdFired = false;
        }
    }

    /** Receives runs of blocks [from, to). */
    @FunctionalInterface
    public interface RunVisitor {
        void run(long from, long to);
    }

    /**
     * Visits each run of blocks that is free both now and in the committed state, in ascending order, adjacent
     * chunks' runs joined. Cost: one pass over the in-memory bitmaps (a bit per block), no I/O.
     */
    public void forEachFreeRun(RunVisitor visitor) {
        long runStart = -1;
        for (int k = 0; k < chunks.size(); k++) {
            BitSet un = chunks.get(k).unavailable;
            int limit = entriesIn(k);
            long base = (long) k * ENTRIES;
            int i = 0;
            while (i < limit) {
                if (runStart < 0) {
                    int f = un.nextClearBit(i);
                    if (f >= limit) {
                        break;
                    }
                    runStart = base + f;
                    i = f;
                }
                int u = un.nextSetBit(i);
                if (u < 0 || u >= limit) {
                    break; // the run goes on into the next chunk
                }
                visitor.run(runStart, base + u);
                runStart = -1;
                i = u + 1;
            }
        }
        if (runStart >= 0) {
            visitor.run(runStart, nrBlocks);
        }
    }

    // ---------------------------------------------------------------- for persistent subclasses

    protected int chunkCount() {
        return chunks.size();
    }

    /** min(count, 3) of every entry of chunk {@code k}: exactly the chunk's 2-bit bitmap values. */
    protected byte[] chunkValues(int k) {
        return chunks.get(k).counts;
    }

    /** Returns whether chunk {@code k} changed since its bitmap was last written, and clears the mark. */
    protected boolean takeDirty(int k) {
        Chunk c = chunks.get(k);
        boolean d = c.dirty;
        c.dirty = false;
        return d;
    }

    /** Where chunk {@code k}'s bitmap block is now (0 when it has none yet). */
    protected long bitmapBlock(int k) {
        return chunks.get(k).bitmapBlock;
    }

    protected void setBitmapBlock(int k, long nr) {
        chunks.get(k).bitmapBlock = nr;
    }

    /** Removes and returns the next block whose ref-count tree entry is stale, or null. */
    protected Long pollOverflowDirty() {
        return overflowDirty.pollFirst();
    }

    /** Records an exact count of 3 or more read from the on-disk ref-count tree. */
    protected void loadOverflow(long block, int count) {
        overflow.put(block, count);
    }

    /** Blocks whose bitmap value is 3 but whose exact count was not loaded. */
    protected long firstMissingOverflow() {
        for (int k = 0; k < chunks.size(); k++) {
            byte[] v = chunks.get(k).counts;
            for (int i = 0; i < entriesIn(k); i++) {
                long b = (long) k * ENTRIES + i;
                if (v[i] == 3 && !overflow.containsKey(b)) {
                    return b;
                }
            }
        }
        return -1;
    }

    /** Number of real entries in chunk {@code k} (the last one may be partial). */
    protected int entriesIn(int k) {
        return (int) Math.min(ENTRIES, nrBlocks - (long) k * ENTRIES);
    }

    /** Loads a chunk's 2-bit values as read from disk (the committed state); counts of 3 come with overflow. */
    protected void loadChunk(int k, byte[] twoBit, long bitmapBlock) {
        Chunk c = chunks.get(k);
        System.arraycopy(twoBit, 0, c.counts, 0, ENTRIES);
        c.committed.clear();
        long allocated = 0;
        for (int i = 0; i < entriesIn(k); i++) {
            if (twoBit[i] != 0) {
                c.committed.set(i);
                allocated++;
            }
        }
        c.allocated.clear();
        c.allocated.or(c.committed);
        c.unavailable.clear();
        c.unavailable.or(c.committed);
        c.dirty = false;
        c.touched = false;
        c.bitmapBlock = bitmapBlock;
        nrAllocated += allocated;
        nrAvailable -= allocated;
    }

    /** Index of the first free entry of chunk {@code k}, or its entry count if none. */
    protected int firstFree(int k) {
        return Math.min(entriesIn(k), chunks.get(k).allocated.nextClearBit(0));
    }

    /** Free entries of chunk {@code k} (no entry past the map's end is ever allocated). */
    protected int freeEntries(int k) {
        return entriesIn(k) - chunks.get(k).allocated.cardinality();
    }

    private long findFree(long from) {
        int k = (int) (from / ENTRIES);
        int i = (int) (from % ENTRIES);
        for (; k < chunks.size(); k++, i = 0) {
            int limit = entriesIn(k);
            int j = chunks.get(k).unavailable.nextClearBit(i);
            if (j < limit) {
                return (long) k * ENTRIES + j;
            }
        }
        return -1;
    }

    private void store(long block, int old, int now) {
        Chunk c = chunks.get((int) (block / ENTRIES));
        int i = (int) (block % ENTRIES);
        c.counts[i] = (byte) Math.min(now, 3);
        if (now >= 3) {
            overflow.put(block, now);
        } else if (old >= 3) {
            overflow.remove(block);
        }
        if (old >= 3 || now >= 3) {
            overflowDirty.add(block);
        }
        if (old == 0 && now > 0) {
            c.allocated.set(i);
            nrAllocated++;
            if (!c.committed.get(i)) {
                c.unavailable.set(i);
                nrAvailable--;
            }
        } else if (old > 0 && now == 0) {
            c.allocated.clear(i);
            nrAllocated--;
            freeListener.accept(block);
            if (!c.committed.get(i)) {
                c.unavailable.clear(i);
                nrAvailable++;
            }
        }
        if (old != now) {
            c.dirty = true;
            c.touched = true;
        }
        checkThreshold();
    }

    private void checkThreshold() {
        if (thresholdCallback != null && !thresholdFired && nrAvailable <= thresholdFree) {
            thresholdFired = true;
            thresholdCallback.run();
        }
    }

    private void checkRange(long block) {
        if (block < 0 || block >= nrBlocks) {
            throw new CorruptMetadataException(block, what + " block " + block + " is past the end of the "
                    + what + " space map (" + nrBlocks + " blocks)");
        }
    }
}
