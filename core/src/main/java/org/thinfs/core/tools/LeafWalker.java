package org.thinfs.core.tools;

import org.thinfs.core.btree.Node;
import org.thinfs.core.btree.NodeWalker;
import org.thinfs.core.io.Validators;

/**
 * The leaves of one btree of raw metadata, in key order, for the readers of the tools (dump, delta, ls): the walk
 * and its tree rules are {@link NodeWalker}'s; this adds the node rules a reader of unchecked blocks needs
 * (checksum, location, {@link Node#validate}). The minimum fill rule is left to the checker: a reader does not need
 * it.
 */
final class LeafWalker {
    static final int MAX_DEPTH = NodeWalker.MAX_DEPTH;

    interface LeafVisitor {
        void leaf(Node leaf);
    }

    private LeafWalker() {
    }

    static void walk(MetadataBlocks blocks, long root, int valueSize, LeafVisitor v) {
        NodeWalker.walk(root, nr -> {
            Node n = new Node(blocks.read(nr, Validators.NODE), nr);
            n.validate(valueSize);
            return n;
        }, leaf -> {
            v.leaf(leaf);
            return true;
        });
    }
}
