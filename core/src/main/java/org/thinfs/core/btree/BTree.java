package org.thinfs.core.btree;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.io.Block;
import org.thinfs.core.tm.TransactionManager;

import java.nio.ByteBuffer;

/**
 * A copy-on-write B+tree of u64 keys and fixed-size values, stored in the dm-thin node format.
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
        while (n.isInternal()) {
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
            if (++depth > 64) {
                throw new CorruptMetadataException(n.blocknr(), "btree deeper than 64 levels (a cycle?)");
            }
        }
        return n;
    }

    /** Visits every entry in key order; stops early when the visitor returns false. */
    public void walk(long root, LeafVisitor visitor) {
        walk(root, visitor, 0);
    }

    /** Receives leaf entries in key order: value {@code i} of {@code leaf} is at {@code leaf.valueOffset(i)}. */
    @FunctionalInterface
    public interface LeafVisitor {
        boolean visit(Node leaf, int i);
    }

    private boolean walk(long nr, LeafVisitor visitor, int depth) {
        if (depth > 64) {
            throw new CorruptMetadataException(nr, "btree deeper than 64 levels (a cycle?)");
        }
        Node n = readNode(nr);
        int count = n.nrEntries();
        if (n.isLeaf()) {
            for (int i = 0; i < count; i++) {
                if (!visitor.visit(n, i)) {
                    return false;
                }
            }
            return true;
        }
        long[] children = new long[count];
        for (int i = 0; i < count; i++) {
            children[i] = n.valueLong(i);
        }
        for (long child : children) {
            if (!walk(child, visitor, depth + 1)) {
                return false;
            }
        }
        return true;
    }

    /** Visits entries with key in [from, to) in order, skipping subtrees entirely outside the range. */
    public void walkRange(long root, long from, long to, LeafVisitor visitor) {
        walkRange(root, from, to, visitor, 0);
    }

    private boolean walkRange(long nr, long from, long to, LeafVisitor visitor, int depth) {
        if (depth > 64) {
            throw new CorruptMetadataException(nr, "btree deeper than 64 levels (a cycle?)");
        }
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

    // ---------------------------------------------------------------- shadowing

    /** Returns a writable copy of node {@code nr}, incrementing what it references if it was shared. */
    private Node shadow(long nr) {
        TransactionManager.Shadow s = tm.shadow(nr, NodeValidator.INSTANCE);
        Node n = new Node(s.block().data(), s.block().nr());
        if (s.incChildren()) {
            incReferences(n);
        }
        return n;
    }

    private void incReferences(Node n) {
        int count = n.nrEntries();
        if (n.isInternal()) {
            for (int i = 0; i < count; i++) {
                tm.inc(n.valueLong(i));
            }
        } else {
            ByteBuffer buf = n.buffer();
            for (int i = 0; i < count; i++) {
                type.inc(buf, n.valueOffset(i));
            }
        }
    }

    private Node newNode(int flags, int vs) {
        Block b = tm.newBlock(NodeValidator.INSTANCE);
        return Node.init(b.data(), b.nr(), flags, vs, maxEntries);
    }

    // ---------------------------------------------------------------- insert

    /** Inserts or overwrites {@code key}; an overwritten value that differs is released through the value type. */
    public Result insert(long root, long key, byte[] value) {
        return insert(root, key, value, true);
    }

    /**
     * Overwrites or inserts {@code key} without releasing the old value: for a value that only moved, such as a
     * subtree root that shadowing replaced (the shadow already dropped the old root's count).
     */
    public Result update(long root, long key, byte[] value) {
        return insert(root, key, value, false);
    }

    private Result insert(long root, long key, byte[] value, boolean releaseOld) {
        Node node = shadow(root);
        long newRoot = node.blocknr();
        if (node.nrEntries() == node.maxEntries()) {
            splitBeneath(node);
        }
        while (node.isInternal()) {
            int i = node.lowerBound(key);
            if (i < 0) {
                // The new key is below every key here: lower the separator so it still bounds the subtree.
                i = 0;
                node.setKey(0, key);
            }
            Node child = shadow(node.valueLong(i));
            node.setValueLong(i, child.blocknr());
            if (child.nrEntries() == child.maxEntries()) {
                Node right = splitInto(child, node, i);
                if (Long.compareUnsigned(key, right.key(0)) >= 0) {
                    child = right;
                }
            }
            node = child;
        }
        int i = node.lowerBound(key);
        boolean existed = i >= 0 && node.key(i) == key;
        if (existed) {
            int off = node.valueOffset(i);
            if (!sameBytes(node.buffer(), off, value)) {
                if (releaseOld) {
                    type.dec(node.buffer(), off);
                }
                node.setValue(i, value);
            }
        } else {
            node.shiftEntries(i + 1, 1);
            node.setNrEntries(node.nrEntries() + 1);
            node.setKey(i + 1, key);
            node.setValue(i + 1, value);
        }
        return new Result(newRoot, existed);
    }

    public Result insertLong(long root, long key, long value) {
        return insert(root, key, le64(value), true);
    }

    public Result updateLong(long root, long key, long value) {
        return insert(root, key, le64(value), false);
    }

    private static byte[] le64(long value) {
        byte[] v = new byte[8];
        ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        return v;
    }

    private static boolean sameBytes(ByteBuffer buf, int off, byte[] value) {
        for (int j = 0; j < value.length; j++) {
            if (buf.get(off + j) != value[j]) {
                return false;
            }
        }
        return true;
    }

    /**
     * A full root keeps its block (the superblock or the parent tree points at it) and moves its entries into two
     * new children:
     * <pre>
     *   [root: a..z full]   becomes   [root: a | n]  (internal)
     *                                   /       \
     *                              [a..m]      [n..z]
     * </pre>
     */
    private void splitBeneath(Node root) {
        int n = root.nrEntries();
        int flags = root.isLeaf() ? Node.LEAF : Node.INTERNAL;
        int vs = root.valueSize();
        int leftCount = n / 2;
        Node left = newNode(flags, vs);
        Node right = newNode(flags, vs);
        left.copyEntries(0, root, 0, leftCount);
        left.setNrEntries(leftCount);
        right.copyEntries(0, root, leftCount, n - leftCount);
        right.setNrEntries(n - leftCount);
        // The root becomes internal: reformat it in place with value size 8.
        ByteBuffer buf = root.buffer();
        for (int j = Node.HEADER_SIZE; j < buf.capacity(); j += 8) {
            buf.putLong(j, 0);
        }
        Node.init(buf, root.blocknr(), Node.INTERNAL, 8, maxEntries);
        root.setNrEntries(2);
        root.setKey(0, left.key(0));
        root.setValueLong(0, left.blocknr());
        root.setKey(1, right.key(0));
        root.setValueLong(1, right.blocknr());
    }

    /** Splits full {@code child} (entry {@code i} of non-full {@code parent}) in half; returns the new right node. */
    private Node splitInto(Node child, Node parent, int i) {
        int n = child.nrEntries();
        int leftCount = n / 2;
        Node right = newNode(child.isLeaf() ? Node.LEAF : Node.INTERNAL, child.valueSize());
        right.copyEntries(0, child, leftCount, n - leftCount);
        right.setNrEntries(n - leftCount);
        child.setNrEntries(leftCount);
        parent.shiftEntries(i + 1, 1);
        parent.setNrEntries(parent.nrEntries() + 1);
        parent.setKey(i + 1, right.key(0));
        parent.setValueLong(i + 1, right.blocknr());
        return right;
    }

    // ---------------------------------------------------------------- remove

    /** Removes {@code key} (releasing its value); an absent key changes nothing. */
    public Result remove(long root, long key) {
        if (!contains(root, key)) {
            return new Result(root, false);
        }
        Node node = shadow(root);
        removeFrom(node, key);
        long newRoot = node.blocknr();
        if (node.isInternal() && node.nrEntries() == 0) {
            tm.dec(node.blocknr()); // every child went: the tree is empty again
            newRoot = create();
        } else if (node.isInternal() && node.nrEntries() == 1) {
            // A root with one child gives way to it; the child's single reference moves from the root to our caller.
            long child = node.valueLong(0);
            tm.dec(node.blocknr());
            newRoot = child;
        }
        return new Result(newRoot, true);
    }

    private void removeFrom(Node node, long key) {
        int i = node.lowerBound(key);
        if (node.isLeaf()) {
            type.dec(node.buffer(), node.valueOffset(i));
            node.shiftEntries(i + 1, -1);
            node.setNrEntries(node.nrEntries() - 1);
            return;
        }
        Node child = shadow(node.valueLong(i));
        node.setValueLong(i, child.blocknr());
        removeFrom(child, key);
        if (child.nrEntries() >= child.maxEntries() / 3) {
            return;
        }
        if (node.nrEntries() > 1) {
            rebalance(node, i);
        } else if (child.nrEntries() == 0) {
            // An empty only child. With full-size nodes only the root has one child (it collapses in remove()); with
            // nodes of 3 (minimum 1) an inner node may have one too. The child goes, and the parent, empty now, is
            // merged into its sibling one level up (or, as the root, replaced by an empty leaf in remove()).
            tm.dec(child.blocknr());
            node.setNrEntries(0);
        }
    }

    /**
     * Child {@code i} of {@code parent} fell below the minimum. Merge it with a neighbour when both fit in one
     * node, otherwise even out their entries. Either way both stay at or above the minimum: the underfull child
     * has min - 1 entries and the sibling at least min.
     */
    private void rebalance(Node parent, int i) {
        int leftIndex = i + 1 < parent.nrEntries() ? i : i - 1; // the parent has two children at least
        Node left = shadow(parent.valueLong(leftIndex));
        parent.setValueLong(leftIndex, left.blocknr());
        Node right = shadow(parent.valueLong(leftIndex + 1));
        parent.setValueLong(leftIndex + 1, right.blocknr());
        int l = left.nrEntries();
        int r = right.nrEntries();
        if (l + r <= left.maxEntries()) {
            left.copyEntries(l, right, 0, r);
            left.setNrEntries(l + r);
            // right's references moved to left; right itself was just shadowed (count 1) and is now unreferenced.
            right.setNrEntries(0);
            tm.dec(right.blocknr());
            parent.shiftEntries(leftIndex + 2, -1);
            parent.setNrEntries(parent.nrEntries() - 1);
            return;
        }
        int targetLeft = (l + r) / 2;
        if (l > targetLeft) {
            int move = l - targetLeft;
            right.shiftEntries(0, move);
            right.setNrEntries(r + move);
            right.copyEntries(0, left, targetLeft, move);
            left.setNrEntries(targetLeft);
        } else if (l < targetLeft) {
            int move = targetLeft - l;
            left.copyEntries(l, right, 0, move);
            left.setNrEntries(targetLeft);
            right.shiftEntries(move, -move);
            right.setNrEntries(r - move);
        }
        parent.setKey(leftIndex + 1, right.key(0));
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
