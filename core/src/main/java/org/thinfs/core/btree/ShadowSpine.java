package org.thinfs.core.btree;

import org.thinfs.core.io.Block;
import org.thinfs.core.tm.TransactionManager;

import java.nio.ByteBuffer;

/**
 * The shadowing every change of a {@link BTree} goes through (the kernel's dm-btree-spine.c): a node on the path
 * from the root down is replaced by a writable copy before it is changed, so the committed tree is never touched.
 *
 * <p>Reference rule: a copy of a node that was shared (count above one) takes one new reference on everything it
 * points at — each child of an internal node, each value of a leaf through the {@link ValueType} — because from now
 * on two nodes hold them. A node used only here is changed in place by the transaction manager (it was already
 * shadowed in this transaction) and references nothing new.
 */
final class ShadowSpine {
    private final TransactionManager tm;
    private final ValueType type;
    private final int maxEntries;

    ShadowSpine(TransactionManager tm, ValueType type, int maxEntries) {
        this.tm = tm;
        this.type = type;
        this.maxEntries = maxEntries;
    }

    /** A writable copy of node {@code nr}, with the references of a shared original raised. */
    Node shadow(long nr) {
        TransactionManager.Shadow s = tm.shadow(nr, NodeValidator.INSTANCE);
        Node n = new Node(s.block().data(), s.block().nr());
        if (s.incChildren()) {
            incReferences(n);
        }
        return n;
    }

    /** A new empty node of this tree's capacity. */
    Node newNode(int flags, int valueSize) {
        Block b = tm.newBlock(NodeValidator.INSTANCE);
        return Node.init(b.data(), b.nr(), flags, valueSize, maxEntries);
    }

    int maxEntries() {
        return maxEntries;
    }

    TransactionManager tm() {
        return tm;
    }

    ValueType type() {
        return type;
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
}
