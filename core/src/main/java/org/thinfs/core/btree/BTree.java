package org.thinfs.core.btree;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.io.Block;
import org.thinfs.core.tm.TransactionManager;

import java.nio.ByteBuffer;

/**
 * A copy-on-write B+tree of u64 keys and fixed-size values, stored in the dm-thin node format: lookups, walks
 * and deletes here; changes in {@link BTreeInsert} and {@link BTreeRemove}, both through {@link ShadowSpine}.
 *
 * <p>Every change shadows the path from the root down (see {@link TransactionManager}), so the committed tree is
 * never touched and a change returns the new root. A node copied out of a shared one increments what it references:
 * its children (internal node) or its values through the {@link ValueType} (leaf). Insertion splits full nodes on
 * the way down, so a split never has to climb back; removal rebalances an underfull child with a sibling on the way
 * back up. Every non-root node keeps at least max_entries / 3 entries.
 *
 * <p>Not thread-safe: the metadata engine serializes all tree operations.
 */
public final class BTree {
    private final TransactionManager tm;
    private final ValueType type;
    private final int valueSize;
    /** Most entries a node this tree makes may hold (capped by what fits the block); FULL_NODES: no cap. */
    private final int maxEntries;
    private final BTreeInsert inserter;
    private final BTreeRemove remover;

    public BTree(TransactionManager tm, ValueType type) {
        this(tm, type, FULL_NODES);
    }

    /** No limit of the tree's own: nodes hold what fits the block (a multiple of 3). */
    public static final int FULL_NODES = 3 * (Integer.MAX_VALUE / 3);

    /**
     * A tree whose new nodes hold at most {@code maxEntries} entries (at least 3), for tests: with full 4 KiB
     * nodes a test tree never grows past two levels, so internal splits and internal rebalancing would never run.
     */
    public BTree(TransactionManager tm, ValueType type, int maxEntries) {
        if (maxEntries < 3 || maxEntries % 3 != 0) {
            throw new IllegalArgumentException("a btree node holds a multiple of 3 entries (the kernel and thin_check "
                    + "refuse others), at least 3, not " + maxEntries);
        }
        this.tm = tm;
        this.type = type;
        this.valueSize = type.size();
        this.maxEntries = maxEntries;
        ShadowSpine spine = new ShadowSpine(tm, type, maxEntries);
        this.inserter = new BTreeInsert(spine);
        this.remover = new BTreeRemove(this, spine);
    }

    /** Result of a change: the tree's new root and whether the key was present before. */
    public record Result(long root, boolean existed) {
    }

    public ValueType valueType() {
        return type;
    }

    /** Creates an empty tree: a single empty leaf. */
    public long create() {
        Block b = tm.newBlock(NodeValidator.INSTANCE);
        Node.init(b.data(), b.nr(), Node.LEAF, valueSize, maxEntries);
        return b.nr();
    }

    // ---------------------------------------------------------------- reading

    /** Reads and checks node {@code nr}; leaves must carry this tree's value size. */
    Node readNode(long nr) {
        Block b = tm.read(nr, NodeValidator.INSTANCE);
        Node n = new Node(b.data(), nr);
        if (n.isLeaf() && n.valueSize() != valueSize) {
            throw new CorruptMetadataException(nr, "btree leaf value size mismatch: expected " + valueSize
                    + ", but got " + n.valueSize());
        }
        return n;
    }

    /** Copies the value of {@code key} into {@code out} and returns true, or returns false when absent. */
    public boolean lookup(long root, long key, byte[] out) {
        Node leaf = findLeaf(root, key);
        int i = leaf == null ? -1 : leaf.lowerBound(key);
        if (i < 0 || leaf.key(i) != key) {
            return false;
        }
        leaf.getValue(i, out);
        return true;
    }

    /** The 8-byte value of {@code key}, or {@code notFound}. */
    public long lookupLong(long root, long key, long notFound) {
        Node leaf = findLeaf(root, key);
        int i = leaf == null ? -1 : leaf.lowerBound(key);
        if (i < 0 || leaf.key(i) != key) {
            return notFound;
        }
        return leaf.valueLong(i);
    }

    /** The largest key, or {@code notFound} in an empty tree; reads one node per level, whatever the tree's size. */
    public long lastKey(long root, long notFound) {
        Node n = readNode(root);
        for (int depth = 1; n.isInternal(); depth++) {
            NodeWalker.checkDepth(n.blocknr(), depth);
            if (n.nrEntries() == 0) {
                throw new CorruptMetadataException(n.blocknr(), "btree internal node has no entries");
            }
            n = readNode(n.valueLong(n.nrEntries() - 1));
        }
        return n.nrEntries() == 0 ? notFound : n.key(n.nrEntries() - 1);
    }

    public boolean contains(long root, long key) {
        Node leaf = findLeaf(root, key);
        int i = leaf == null ? -1 : leaf.lowerBound(key);
        return i >= 0 && leaf.key(i) == key;
    }

    private Node findLeaf(long root, long key) {
        Node n = readNode(root);
        int depth = 0;
        while (n.isInternal()) {
            int i = n.lowerBound(key);
            if (i < 0) {
                return null;
            }
            n = readNode(n.valueLong(i));
            NodeWalker.checkDepth(n.blocknr(), ++depth);
        }
        return n;
    }

    /** Visits every entry in key order (through {@link NodeWalker}); stops early when the visitor returns false. */
    public void walk(long root, LeafVisitor visitor) {
        NodeWalker.walk(root, this::readNode, leaf -> {
            for (int i = 0, count = leaf.nrEntries(); i < count; i++) {
                if (!visitor.visit(leaf, i)) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Receives leaf entries in key order: value {@code i} of {@code leaf} is at {@code leaf.valueOffset(i)}. */
    @FunctionalInterface
    public interface LeafVisitor {
        boolean visit(Node leaf, int i);
    }

    /**
     * Visits entries with key in [from, to) in order, skipping subtrees entirely outside the range. The hot path of
     * every read, so it checks only the depth (cost: the nodes on the range's paths, nothing per node besides).
     */
    public void walkRange(long root, long from, long to, LeafVisitor visitor) {
        walkRange(root, from, to, visitor, 0);
    }

    private boolean walkRange(long nr, long from, long to, LeafVisitor visitor, int depth) {
        NodeWalker.checkDepth(nr, depth);
        Node n = readNode(nr);
        int count = n.nrEntries();
        int start = Math.max(0, n.lowerBound(from));
        if (n.isLeaf()) {
            for (int i = start; i < count; i++) {
                long k = n.key(i);
                if (Long.compareUnsigned(k, to) >= 0) {
                    return false;
                }
                if (Long.compareUnsigned(k, from) >= 0 && !visitor.visit(n, i)) {
                    return false;
                }
            }
            return true;
        }
        for (int i = start; i < count; i++) {
            if (Long.compareUnsigned(n.key(i), to) >= 0) {
                return false;
            }
            long child = n.valueLong(i);
            if (!walkRange(child, from, to, visitor, depth + 1)) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- changes

    /** Inserts or overwrites {@code key}; an overwritten value that differs is released through the value type. */
    public Result insert(long root, long key, byte[] value) {
        return inserter.insert(root, key, value, true);
    }

    /**
     * Overwrites or inserts {@code key} without releasing the old value: for a value that only moved, such as a
     * subtree root that shadowing replaced (the shadow already dropped the old root's count).
     */
    public Result update(long root, long key, byte[] value) {
        return inserter.insert(root, key, value, false);
    }

    public Result insertLong(long root, long key, long value) {
        return inserter.insert(root, key, le64(value), true);
    }

    public Result updateLong(long root, long key, long value) {
        return inserter.insert(root, key, le64(value), false);
    }

    /** Removes {@code key} (releasing its value); an absent key changes nothing. */
    public Result remove(long root, long key) {
        return remover.remove(root, key);
    }

    private static byte[] le64(long value) {
        byte[] v = new byte[8];
        ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        return v;
    }

    // ---------------------------------------------------------------- delete

    /**
     * Drops one reference to the tree at {@code root}. Only when a node's count reaches zero are its own
     * references released in turn: children for an internal node, values (through the value type) for a leaf.
     */
    public void delete(long root) {
        java.util.ArrayDeque<Long> pending = new java.util.ArrayDeque<>();
        pending.push(root);
        deleteSteps(pending, Integer.MAX_VALUE);
    }

    /**
     * {@link #delete} in steps, for trees too big to free in one metadata operation: {@code pending} holds the
     * nodes whose reference is still to be dropped, and each call drops at most {@code budget} of them, pushing the
     * children of every node whose count reaches zero. A node is read before its reference goes, and nothing
     * reaches a node whose count was 1 except through its parent, so the steps may be spread over several
     * operations of other devices. Returns true when nothing is left.
     */
    public boolean deleteSteps(java.util.ArrayDeque<Long> pending, int budget) {
        for (int done = 0; done < budget && !pending.isEmpty(); done++) {
            long nr = pending.pop();
            if (tm.count(nr) > 1) {
                tm.dec(nr);
                continue;
            }
            Node n = readNode(nr);
            int count = n.nrEntries();
            if (n.isInternal()) {
                for (int i = 0; i < count; i++) {
                    pending.push(n.valueLong(i));
                }
            } else {
                ByteBuffer copy = ByteBuffer.allocate(n.buffer().capacity()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                copy.put(0, n.buffer(), 0, copy.capacity());
                Node snapshot = new Node(copy, nr);
                for (int i = 0; i < count; i++) {
                    type.dec(copy, snapshot.valueOffset(i));
                }
            }
            tm.dec(nr);
        }
        return pending.isEmpty();
    }

    /** Adds one reference to the tree at {@code root} (it becomes shared). */
    public void share(long root) {
        tm.inc(root);
    }
}
