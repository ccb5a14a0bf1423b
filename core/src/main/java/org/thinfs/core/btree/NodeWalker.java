package org.thinfs.core.btree;

import org.thinfs.core.CorruptMetadataException;

import java.util.HashSet;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * The one full walk of a btree, for every reader that visits whole trees (BTree#walk, the dump and delta tools):
 * leaves in key order, failing fast on anything a reader cannot trust — a tree deeper than {@value #MAX_DEPTH}
 * levels, a node reached twice (a cycle), an internal node without entries, a parent key above its child's first
 * key, leaves at different depths, keys not increasing across leaves. Node-level rules (checksum, location,
 * value size, max_entries) are the reader's: {@code read} returns only nodes it has checked. The checker
 * (tools.TreeChecker) walks on its own because it reports every problem instead of stopping at the first, with the
 * same depth limit.
 */
public final class NodeWalker {
    /** Deeper than any tree of 2^64 keys in nodes of three, and so the sign of a cycle or of damage. */
    public static final int MAX_DEPTH = 64;

    /** Receives each leaf once, in key order; false stops the walk. */
    @FunctionalInterface
    public interface Leaves {
        boolean leaf(Node leaf);
    }

    private final LongFunction<Node> read;
    private final Set<Long> seen = new HashSet<>();
    private int leafDepth = -1;
    private boolean anyKey;
    private long lastKey;

    private NodeWalker(LongFunction<Node> read) {
        this.read = read;
    }

    /** Walks the tree at {@code root}; returns false when the visitor stopped it. */
    public static boolean walk(long root, LongFunction<Node> read, Leaves visitor) {
        return new NodeWalker(read).visit(root, 0, 0, false, visitor);
    }

    /** Fails when {@code depth} is past the limit every walk and descent of this package keeps. */
    static void checkDepth(long nr, int depth) {
        if (depth > MAX_DEPTH) {
            throw new CorruptMetadataException(nr, "btree is deeper than " + MAX_DEPTH + " levels (a cycle?)");
        }
    }

    private boolean visit(long nr, int depth, long parentKey, boolean hasParent, Leaves v) {
        checkDepth(nr, depth);
        if (!seen.add(nr)) {
            throw new CorruptMetadataException(nr, "btree node reached twice in one tree (a cycle?)");
        }
        Node n = read.apply(nr);
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
            return v.leaf(n);
        }
        if (count == 0) {
            throw new CorruptMetadataException(nr, "internal btree node with no entries");
        }
        // Children are read before the visit goes down: a visitor may change the cache that holds this node.
        long[] children = new long[count];
        long[] keys = new long[count];
        for (int i = 0; i < count; i++) {
            children[i] = n.valueLong(i);
            keys[i] = n.key(i);
        }
        for (int i = 0; i < count; i++) {
            if (!visit(children[i], depth + 1, keys[i], true, v)) {
                return false;
            }
        }
        return true;
    }
}
