package org.thinfs.core.tools;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.btree.Node;
import org.thinfs.core.io.Validators;

import java.util.HashSet;
import java.util.Set;

/**
 * Visits the leaves of one btree in key order, failing fast on anything a reader cannot trust: checksum,
 * location, the per-node rules of {@link Node#validate}, keys not increasing across the tree, a parent key above
 * its child's keys, leaves at different depths, a block reached twice (a cycle) or a tree deeper than
 * {@value #MAX_DEPTH} levels. The minimum fill rule is left to the checker: a reader does not need it.
 */
final class LeafWalker {
    static final int MAX_DEPTH = 32;

    interface LeafVisitor {
        void leaf(Node leaf);
    }

    private final MetadataBlocks blocks;
    private final Set<Long> seen = new HashSet<>();
    private int leafDepth;
    private boolean anyKey;
    private long lastKey;

    private LeafWalker(MetadataBlocks blocks) {
        this.blocks = blocks;
    }

    static void walk(MetadataBlocks blocks, long root, int valueSize, LeafVisitor v) {
        LeafWalker w = new LeafWalker(blocks);
        w.leafDepth = -1;
        w.visit(root, valueSize, 0, 0, false, v);
    }

    private void visit(long nr, int valueSize, int depth, long parentKey, boolean hasParent, LeafVisitor v) {
        if (depth > MAX_DEPTH) {
            throw new CorruptMetadataException(nr, "btree is deeper than " + MAX_DEPTH + " levels");
        }
        if (!seen.add(nr)) {
            throw new CorruptMetadataException(nr, "btree node reached twice in one tree (a cycle?)");
        }
        Node n = new Node(blocks.read(nr, Validators.NODE), nr);
        n.validate(valueSize);
        int count = n.nrEntries();
        if (hasParent && count > 0 && Long.compareUnsigned(n.key(0), parentKey) < 0) {
            throw new CorruptMetadataException(nr, "parent key mismatch: parent was " + Long.toUnsignedString(
                    parentKey) + ", but lowest in node was " + Long.toUnsignedString(n.key(0)));
        }
        if (n.isLeaf()) {
            if (leafDepth < 0) {
                leafDepth = depth;
            } else if (leafDepth != depth) {
                throw new CorruptMetadataException(nr, "leaf at depth " + depth + ", other leaves at " + leafDepth);
            }
            if (count > 0) {
                if (anyKey && Long.compareUnsigned(n.key(0), lastKey) <= 0) {
                    throw new CorruptMetadataException(nr, "keys out of order: the last key of the previous leaf"
                            + " was " + Long.toUnsignedString(lastKey) + ", this leaf starts at "
                            + Long.toUnsignedString(n.key(0)));
                }
                anyKey = true;
                lastKey = n.key(count - 1);
            }
            v.leaf(n);
            return;
        }
        if (count == 0) {
            throw new CorruptMetadataException(nr, "internal btree node with no entries");
        }
        for (int i = 0; i < count; i++) {
            visit(n.valueLong(i), valueSize, depth + 1, n.key(i), true, v);
        }
    }
}
