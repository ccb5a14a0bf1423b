package org.thinfs.core.sm.disk;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.btree.BTree;
import org.thinfs.core.btree.ValueType;
import org.thinfs.core.format.IndexEntry;
import org.thinfs.core.tm.TransactionManager;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** The data space map's index: a btree from bitmap number to index entry (FORMAT.md 7.4). */
final class BTreeIndexStore implements IndexStore {
    private final BTree tree;
    private long root;

    BTreeIndexStore(TransactionManager tm, long root) {
        this.tree = new BTree(tm, ValueType.plain(IndexEntry.SIZE));
        this.root = root == 0 ? tree.create() : root;
    }

    @Override
    public List<IndexEntry> load(int n) {
        List<IndexEntry> out = new ArrayList<>(n);
        tree.walk(root, (leaf, i) -> {
            long key = leaf.key(i);
            if (key != out.size()) {
                throw new CorruptMetadataException(leaf.blocknr(), "data space map index has key " + key
                        + " where " + out.size() + " was expected");
            }
            if (out.size() < n) {
                out.add(IndexEntry.decode(leaf.buffer(), leaf.valueOffset(i)));
            }
            return true;
        });
        if (out.size() < n) {
            throw new CorruptMetadataException(root, "data space map index has " + out.size()
                    + " entries, " + n + " bitmaps expected");
        }
        return out;
    }

    @Override
    public void beginCommit() {
    }

    @Override
    public void save(int k, IndexEntry entry) {
        byte[] v = new byte[IndexEntry.SIZE];
        entry.encode(ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN), 0);
        root = tree.insert(root, k, v).root();
    }

    @Override
    public void endCommit() {
    }

    @Override
    public long root() {
        return root;
    }
}
