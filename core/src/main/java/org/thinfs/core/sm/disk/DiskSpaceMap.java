package org.thinfs.core.sm.disk;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.OutOfMetadataSpaceException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.btree.BTree;
import org.thinfs.core.btree.ValueType;
import org.thinfs.core.format.IndexEntry;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.io.Block;
import org.thinfs.core.io.Validators;
import org.thinfs.core.sm.CoreSpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A space map persisted in the dm-thin layout: 2-bit bitmaps, an index of them ({@link IndexStore}) and a
 * ref-count btree holding exactly the counts of 3 and more.
 *
 * <p>Counts live in memory ({@link CoreSpaceMap}); {@link #commit()} writes what changed. The metadata map stores
 * its own structures in the blocks it counts, so writing a bitmap can allocate (shadow) a block, which changes a
 * count, which dirties a bitmap. The kernel breaks that recursion with a queue of pending operations; here the
 * counts are already applied in memory, so commit simply repeats "write dirty bitmaps, update the ref-count tree"
 * until a pass changes nothing. It terminates because the second write of a bitmap or tree node in one
 * transaction happens in place and allocates nothing. The data map's structures live in the metadata map, so one
 * pass suffices for it.
 */
public final class DiskSpaceMap extends CoreSpaceMap {
    private final boolean metadata;
    private TransactionManager tm;
    private IndexStore index;
    private BTree refCounts;
    private long refCountRoot;
    private SpaceMapRoot committedRoot;

    private DiskSpaceMap(boolean metadata, long nrBlocks, Supplier<ThinfsException> exhausted) {
        super(metadata ? "metadata" : "data", nrBlocks, exhausted);
        this.metadata = metadata;
    }

    // ---------------------------------------------------------------- metadata map

    /**
     * A new, empty metadata map of {@code nrBlocks} with block 0 (the superblock) counted. The metadata map and the
     * transaction manager need each other: build the manager over this map, then call {@link #attachNew}.
     */
    public static DiskSpaceMap newMetadata(long nrBlocks) {
        if (nrBlocks < 16 || nrBlocks > Layout.MAX_METADATA_BLOCKS) {
            throw new IllegalArgumentException("a metadata device needs 16 to " + Layout.MAX_METADATA_BLOCKS
                    + " blocks, not " + nrBlocks);
        }
        DiskSpaceMap m = new DiskSpaceMap(true, nrBlocks, DiskSpaceMap::metadataFull);
        m.setCount(Layout.SUPERBLOCK_LOCATION, 1);
        return m;
    }

    /** The committed metadata map described by {@code root}; build the manager over it, then {@link #attachExisting}. */
    public static DiskSpaceMap existingMetadata(SpaceMapRoot root, long deviceBlocks) {
        if (root.nrBlocks() <= 0 || root.nrBlocks() > Layout.MAX_METADATA_BLOCKS) {
            throw new CorruptMetadataException(0, "metadata space map claims " + root.nrBlocks() + " blocks");
        }
        if (root.nrBlocks() > deviceBlocks) {
            throw new CorruptMetadataException(0, "metadata space map claims " + root.nrBlocks()
                    + " blocks but the metadata device holds only " + deviceBlocks);
        }
        if (root.bitmapRoot() == 0 || root.refCountRoot() == 0) {
            throw new CorruptMetadataException(0, "metadata space map root is missing its index or ref-count tree");
        }
        DiskSpaceMap m = new DiskSpaceMap(true, root.nrBlocks(), DiskSpaceMap::metadataFull);
        m.committedRoot = root;
        return m;
    }

    /** Finishes a new map: creates the empty ref-count tree; the index block is written at the first commit. */
    public DiskSpaceMap attachNew(TransactionManager manager) {
        attach(manager, new BlockIndexStore(manager, 0));
        refCountRoot = refCounts.create();
        return this;
    }

    /** Finishes opening: reads every bitmap and the ref-count tree. */
    public DiskSpaceMap attachExisting(TransactionManager manager) {
        attach(manager, new BlockIndexStore(manager, committedRoot.bitmapRoot()));
        refCountRoot = committedRoot.refCountRoot();
        loadAll();
        return this;
    }

    private void attach(TransactionManager manager, IndexStore store) {
        this.tm = manager;
        this.index = store;
        this.refCounts = new BTree(manager, ValueType.plain(4));
    }

    private static ThinfsException metadataFull() {
        return new OutOfMetadataSpaceException(
                "the metadata device is full: grow it with 'thinfs resize --metadata'");
    }

    // ---------------------------------------------------------------- data map

    public static DiskSpaceMap formatData(TransactionManager tm, long nrBlocks) {
        DiskSpaceMap m = new DiskSpaceMap(false, nrBlocks, DiskSpaceMap::dataFull);
        m.attach(tm, new BTreeIndexStore(tm, 0));
        m.refCountRoot = m.refCounts.create();
        return m;
    }

    public static DiskSpaceMap openData(TransactionManager tm, SpaceMapRoot root) {
        if (root.nrBlocks() < 0 || root.nrBlocks() > (Layout.MAX_DATA_BLOCK + 1)) {
            throw new CorruptMetadataException(0, "data space map claims " + root.nrBlocks() + " blocks");
        }
        if (root.bitmapRoot() == 0 || root.refCountRoot() == 0) {
            throw new CorruptMetadataException(0, "data space map root is missing its index or ref-count tree");
        }
        DiskSpaceMap m = new DiskSpaceMap(false, root.nrBlocks(), DiskSpaceMap::dataFull);
        m.attach(tm, new BTreeIndexStore(tm, root.bitmapRoot()));
        m.refCountRoot = root.refCountRoot();
        m.loadAll();
        return m;
    }

    private static ThinfsException dataFull() {
        return new OutOfDataSpaceException("the pool's data space is full");
    }

    // ---------------------------------------------------------------- load and commit

    private void loadAll() {
        int n = (int) Layout.bitmapCount(nrBlocks());
        List<IndexEntry> entries = index.load(n);
        byte[] values = new byte[Layout.ENTRIES_PER_BITMAP];
        for (int k = 0; k < n; k++) {
            long nr = entries.get(k).blocknr();
            if (nr == 0) {
                throw new CorruptMetadataException(0, "space map index entry " + k + " names no bitmap");
            }
            Block b = tm.read(nr, Validators.BITMAP);
            Bitmaps.decode(b.data(), values);
            for (int i = entriesIn(k); i < Layout.ENTRIES_PER_BITMAP; i++) {
                values[i] = 0;
            }
            loadChunk(k, values, nr);
        }
        refCounts.walk(refCountRoot, (leaf, i) -> {
            long block = leaf.key(i);
            int count = leaf.buffer().getInt(leaf.valueOffset(i));
            if (block >= nrBlocks() || count < 3 || chunkValues((int) (block / Layout.ENTRIES_PER_BITMAP))
                    [(int) (block % Layout.ENTRIES_PER_BITMAP)] != 3) {
                throw new CorruptMetadataException(leaf.blocknr(), "ref-count tree entry for block " + block
                        + " (count " + count + ") does not match its bitmap");
            }
            loadOverflow(block, count);
            return true;
        });
        long missing = firstMissingOverflow();
        if (missing >= 0) {
            throw new CorruptMetadataException(0, "block " + missing
                    + " has bitmap count 3 but no entry in the ref-count tree");
        }
    }

    /** Writes every changed bitmap, index entry and ref count; returns the root to publish in the superblock. */
    public SpaceMapRoot commit() {
        IndexStore store = index;
        store.beginCommit();
        List<Integer> written = new ArrayList<>();
        boolean changed;
        do {
            changed = false;
            for (int k = 0; k < chunkCount(); k++) {
                if (takeDirty(k)) {
                    writeBitmap(k);
                    if (!written.contains(k)) {
                        written.add(k);
                    }
                    changed = true;
                }
            }
            for (Long b = pollOverflowDirty(); b != null; b = pollOverflowDirty()) {
                int c = count(b);
                refCountRoot = c >= 3
                        ? refCounts.insert(refCountRoot, b, le32(c)).root()
                        : refCounts.remove(refCountRoot, b).root();
                changed = true;
            }
        } while (changed);
        for (int k : written) {
            store.save(k, new IndexEntry(bitmapBlock(k), freeEntries(k), firstFree(k)));
        }
        store.endCommit();
        return root();
    }

    public SpaceMapRoot root() {
        return new SpaceMapRoot(nrBlocks(), nrAllocated(), index.root(), refCountRoot);
    }

    private void writeBitmap(int k) {
        long old = bitmapBlock(k);
        Block b = old == 0 ? tm.newBlock(Validators.BITMAP) : tm.shadow(old, Validators.BITMAP).block();
        setBitmapBlock(k, b.nr());
        Bitmaps.encode(chunkValues(k), b.data());
    }

    private static byte[] le32(int v) {
        byte[] out = new byte[4];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
        return out;
    }

    @Override
    public void extend(long extra) {
        if (metadata && nrBlocks() + extra > Layout.MAX_METADATA_BLOCKS) {
            throw new IllegalArgumentException("the metadata device can hold at most "
                    + Layout.MAX_METADATA_BLOCKS + " blocks");
        }
        super.extend(extra);
    }
}
