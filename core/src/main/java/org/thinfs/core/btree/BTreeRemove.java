package org.thinfs.core.btree;

import org.thinfs.core.tm.TransactionManager;

/**
 * Removal from a {@link BTree} (the kernel's dm-btree-remove.c): down to the leaf shadowing the path, drop the
 * entry, and on the way back up rebalance every child that fell below the minimum of max_entries / 3 with a
 * neighbour, so every node but the root stays at or above it.
 *
 * <p>Why the sibling is shadowed too, even when only its first key or its entries move: the sibling may be shared
 * with another tree (a snapshot's, or the committed one). Changing it in place would change that tree as well;
 * its shadow takes new references on what it points at, and the shared original keeps its own.
 */
final class BTreeRemove {
    private final BTree tree;
    private final ShadowSpine spine;
    private final TransactionManager tm;

    BTreeRemove(BTree tree, ShadowSpine spine) {
        this.tree = tree;
        this.spine = spine;
        this.tm = spine.tm();
    }

    /** Removes {@code key} (releasing its value); an absent key changes nothing, not even a shadow. */
    BTree.Result remove(long root, long key) {
        if (!tree.contains(root, key)) {
            return new BTree.Result(root, false);
        }
        Node node = spine.shadow(root);
        removeFrom(node, key);
        long newRoot = node.blocknr();
        if (node.isInternal() && node.nrEntries() == 0) {
            tm.dec(node.blocknr()); // every child went: the tree is empty again
            newRoot = tree.create();
        } else if (node.isInternal() && node.nrEntries() == 1) {
            // A root with one child gives way to it; the child's single reference moves from the root to our caller.
            long child = node.valueLong(0);
            tm.dec(node.blocknr());
            newRoot = child;
        }
        return new BTree.Result(newRoot, true);
    }

    private void removeFrom(Node node, long key) {
        int i = node.lowerBound(key);
        if (node.isLeaf()) {
            spine.type().dec(node.buffer(), node.valueOffset(i));
            node.shiftEntries(i + 1, -1);
            node.setNrEntries(node.nrEntries() - 1);
            return;
        }
        Node child = spine.shadow(node.valueLong(i));
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
     * Child {@code i} of {@code parent} fell below the minimum. Both it and its neighbour (the right one, or the
     * left one for the last child) are shadowed, then:
     * <pre>
     *   merge, when both fit one node:            even out, when they do not:
     *   parent [a | g | p]                        parent [a | g | p]
     *            |   |                                    |   |
     *        [a b] [g]     →  parent [a | p]         [a b c d e] [g]  →  parent [a | d | p]
     *                                 |                                          |   |
     *                             [a b g]                                  [a b c] [d e g]
     * </pre>
     * Either way both stay at or above the minimum: the underfull child has min - 1 entries and the sibling at least
     * min. The parent's separator for the right node is its new first key.
     */
    private void rebalance(Node parent, int i) {
        int leftIndex = i + 1 < parent.nrEntries() ? i : i - 1; // the parent has two children at least
        Node left = spine.shadow(parent.valueLong(leftIndex));
        parent.setValueLong(leftIndex, left.blocknr());
        Node right = spine.shadow(parent.valueLong(leftIndex + 1));
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
}
