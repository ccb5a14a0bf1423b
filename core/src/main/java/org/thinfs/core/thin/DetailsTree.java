package org.thinfs.core.thin;

import org.thinfs.core.btree.BTree;
import org.thinfs.core.btree.ValueType;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.tm.TransactionManager;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The device details tree of FORMAT.md 10 ({@code dev_id → mapped_blocks, transaction_id, creation_time,
 * snap_time}) with a cache in front, as the kernel keeps one: details are read on demand, changed in memory, and
 * written back to the tree at commit ({@link #writeBack}), so a write that maps a block costs no details update.
 * A new instance is made for every load, so the cache never outlives its transaction.
 */
final class DetailsTree {
    private static final int SIZE = DeviceDetails.SIZE;

    private final BTree tree;
    private final Map<Long, DeviceDetails> cache = new HashMap<>();
    /** Ids whose cached details differ from the tree; ordered so write-back inserts ascending. */
    private final Set<Long> dirty = new TreeSet<>();
    private long root;

    DetailsTree(TransactionManager tm, long root, int nodeEntries) {
        this.tree = new BTree(tm, ValueType.plain(SIZE), nodeEntries);
        this.root = root;
    }

    static long createEmpty(TransactionManager tm, int nodeEntries) {
        return new DetailsTree(tm, 0, nodeEntries).tree.create();
    }

    /** The root as of the last {@link #writeBack}. */
    long root() {
        return root;
    }

    void checkReadable() {
        tree.contains(root, 0);
    }

    /** The details of {@code id}, or null when the tree has none. */
    DeviceDetails get(long id) {
        DeviceDetails d = cache.get(id);
        if (d != null) {
            return d;
        }
        byte[] v = new byte[SIZE];
        if (!tree.lookup(root, id, v)) {
            return null;
        }
        d = DeviceDetails.decode(ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN), 0);
        cache.put(id, d);
        return d;
    }

    void put(long id, DeviceDetails d) {
        cache.put(id, d);
        dirty.add(id);
    }

    /** Removes the device from the tree and the cache. */
    void remove(long id) {
        root = tree.remove(root, id).root();
        cache.remove(id);
        dirty.remove(id);
    }

    /** Writes every changed entry into the tree (called at the start of a commit). */
    void writeBack() {
        for (long id : dirty) {
            byte[] v = new byte[SIZE];
            cache.get(id).encode(ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN), 0);
            root = tree.insert(root, id, v).root();
        }
        dirty.clear();
    }

    /** Drops a details tree that only the metadata snapshot held. */
    void deleteTree(long detailsRoot) {
        tree.delete(detailsRoot);
    }
}
