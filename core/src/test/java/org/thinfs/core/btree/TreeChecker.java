package org.thinfs.core.btree;


import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Test-side structural check of a whole tree: FORMAT.md 5.1's cross-node rules. */
final class TreeChecker {
    private final BTree tree;

    TreeChecker(BTree tree) {
        this.tree = tree;
    }

    /** Returns all keys in order after checking fill, ordering, parent keys and equal leaf depth. */
    List<Long> check(long root) {
        List<Long> keys = new ArrayList<>();
        int[] leafDepth = {-1};
        walk(root, true, Long.MIN_VALUE, 0, keys, leafDepth);
        for (int i = 1; i < keys.size(); i++) {
            assertTrue(keys.get(i - 1) < keys.get(i), "keys increase across leaves");
        }
        return keys;
    }

    private void walk(long nr, boolean isRoot, long lowerBound, int depth, List<Long> keys, int[] leafDepth) {
        Node n = tree.readNode(nr);
        n.validate(-1);
        int count = n.nrEntries();
        if (!isRoot) {
            assertTrue(count >= n.maxEntries() / 3, "node " + nr + " has " + count + " entries, min "
                    + n.maxEntries() / 3);
        }
        if (count > 0) {
            assertTrue(n.key(0) >= lowerBound, "node " + nr + " first key below parent key");
        }
        if (n.isLeaf()) {
            if (leafDepth[0] < 0) {
                leafDepth[0] = depth;
            }
            assertEquals(leafDepth[0], depth, "all leaves at one depth");
            for (int i = 0; i < count; i++) {
                keys.add(n.key(i));
            }
            return;
        }
        if (count == 0) {
            fail("empty internal node " + nr);
        }
        for (int i = 0; i < count; i++) {
            walk(n.valueLong(i), false, n.key(i), depth + 1, keys, leafDepth);
        }
    }

}
