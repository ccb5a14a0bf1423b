package org.thinfs.core.sm.disk;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.format.IndexEntry;
import org.thinfs.core.format.Layout;
import org.thinfs.core.io.Block;
import org.thinfs.core.io.Validators;
import org.thinfs.core.tm.TransactionManager;

import java.util.ArrayList;
import java.util.List;

/** The metadata space map's index: one block of 255 entries after a 16-byte header (FORMAT.md 7.4). */
final class BlockIndexStore implements IndexStore {
    private static final int ENTRIES_OFFSET = 16;
    private final TransactionManager tm;
    private long root;
    private Block current;

    BlockIndexStore(TransactionManager tm, long root) {
        this.tm = tm;
        this.root = root;
    }

    @Override
    public List<IndexEntry> load(int n) {
        if (n > Layout.METADATA_INDEX_ENTRIES) {
            throw new CorruptMetadataException(0, "metadata space map needs " + n + " bitmaps, at most "
                    + Layout.METADATA_INDEX_ENTRIES + " fit its index block");
        }
        Block b = tm.read(root, Validators.INDEX);
        List<IndexEntry> out = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            out.add(IndexEntry.decode(b.data(), ENTRIES_OFFSET + k * IndexEntry.SIZE));
        }
        return out;
    }

    @Override
    public void beginCommit() {
        // A shadow keeps the committed entries: a commit saves only the chunks it changed, and every other entry
        // must still name its bitmap. Only a brand-new index block starts from zeros.
        if (root == 0) {
            current = tm.newBlock(Validators.INDEX);
            for (int off = ENTRIES_OFFSET; off < Layout.BLOCK_SIZE; off += 8) {
                current.data().putLong(off, 0);
            }
        } else {
            current = tm.shadow(root, Validators.INDEX).block();
        }
        root = current.nr();
    }

    @Override
    public void save(int k, IndexEntry entry) {
        entry.encode(current.data(), ENTRIES_OFFSET + k * IndexEntry.SIZE);
    }

    @Override
    public void endCommit() {
        current = null;
    }

    @Override
    public long root() {
        return root;
    }
}
