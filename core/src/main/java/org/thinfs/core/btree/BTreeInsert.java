package org.thinfs.core.btree;

import java.nio.ByteBuffer;

/**
 * Insertion into a {@link BTree} (the kernel's dm-btree.c insert): one pass down from the root, shadowing each node
 * on the path and splitting every full node before stepping into it, so a split never has to climb back up (its
 * parent is already known to have room).
 */
final class BTreeInsert {
    private final ShadowSpine spine;

    BTreeInsert(ShadowSpine spine) {
        this.spine = spine;
    }

    /**
     * Inserts or overwrites {@code key}. With {@code releaseOld}, an overwritten value that differs is released
     * through the value type; without, it is assumed to have moved (a subtree root that shadowing replaced).
     */
    BTree.Result insert(long root, long key, byte[] value, boolean releaseOld) {
        Node node = spine.shadow(root);
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
            Node child = spine.shadow(node.valueLong(i));
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
                    spine.type().dec(node.buffer(), off);
                }
                node.setValue(i, value);
            }
        } else {
            node.shiftEntries(i + 1, 1);
            node.setNrEntries(node.nrEntries() + 1);
            node.setKey(i + 1, key);
            node.setValue(i + 1, value);
        }
        return new BTree.Result(newRoot, existed);
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
        Node left = spine.newNode(flags, vs);
        Node right = spine.newNode(flags, vs);
        left.copyEntries(0, root, 0, leftCount);
        left.setNrEntries(leftCount);
        right.copyEntries(0, root, leftCount, n - leftCount);
        right.setNrEntries(n - leftCount);
        // The root becomes internal: reformat it in place with value size 8.
        ByteBuffer buf = root.buffer();
        for (int j = Node.HEADER_SIZE; j < buf.capacity(); j += 8) {
            buf.putLong(j, 0);
        }
        Node.init(buf, root.blocknr(), Node.INTERNAL, 8, spine.maxEntries());
        root.setNrEntries(2);
        root.setKey(0, left.key(0));
        root.setValueLong(0, left.blocknr());
        root.setKey(1, right.key(0));
        root.setValueLong(1, right.blocknr());
    }

    /**
     * Splits full {@code child} (entry {@code i} of non-full {@code parent}) in half; returns the new right node.
     * <pre>
     *   parent [.. c ..]            parent [.. c | m ..]
     *            |          →               |     \
     *   child [c..z full]           child [c..l]  right [m..z]
     * </pre>
     */
    private Node splitInto(Node child, Node parent, int i) {
        int n = child.nrEntries();
        int leftCount = n / 2;
        Node right = spine.newNode(child.isLeaf() ? Node.LEAF : Node.INTERNAL, child.valueSize());
        right.copyEntries(0, child, leftCount, n - leftCount);
        right.setNrEntries(n - leftCount);
        child.setNrEntries(leftCount);
        parent.shiftEntries(i + 1, 1);
        parent.setNrEntries(parent.nrEntries() + 1);
        parent.setKey(i + 1, right.key(0));
        parent.setValueLong(i + 1, right.blocknr());
        return right;
    }
}
