package org.thinfs.core.btree;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.OutOfMetadataSpaceException;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.io.MemoryBlockDevice;
import org.thinfs.core.sm.CoreSpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random inserts, removes, lookups, commits and snapshots (shared roots) against TreeMap models. Every tree must
 * keep its own content however the others change, and releasing every tree must free every block (no leak, no
 * double free). Failures name the seed and the operation number.
 *
 * <p>Run over a matrix of node capacities (3, 6 and 15 entries: max_entries must be a multiple of 3, and the full 4 KiB block), so trees grow to many
 * levels and internal splits, internal merges and internal redistribution all run; and over two value types:
 * plain numbers, and counted values (each value a block of the space map, as a device root in the top-level mapping
 * tree is), where every copy out of a shared leaf must take a reference and every value leaving the tree must drop
 * one, so after every tree is deleted only the superblock may be left.
 */
class BTreeRandomTest {
    private static final int BLOCKS = 20000;

    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (int capacity : new int[]{3, 6, 15, BTree.FULL_NODES}) {
            for (boolean counted : new boolean[]{false, true}) {
                long[] seeds = capacity == BTree.FULL_NODES && !counted ? new long[]{1, 2, 3, 42, 1234}
                        : new long[]{7, 99};
                for (long seed : seeds) {
                    out.add(Arguments.of(capacity, counted, seed));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "capacity {0}, counted {1}, seed {2}")
    @MethodSource("shapes")
    void randomOperationsAgainstModel(int capacity, boolean counted, long seed) {
        Random rnd = new Random(seed);
        CoreSpaceMap sm = new CoreSpaceMap("metadata", BLOCKS, () -> new OutOfMetadataSpaceException("full"));
        sm.setCount(0, 1);
        BlockManager bm = new BlockManager(new MemoryBlockDevice(BLOCKS), 256, true);
        TransactionManager tm = new TransactionManager(bm, sm);
        ValueType values = counted ? new ValueType() {
            @Override
            public int size() {
                return 8;
            }

            @Override
            public void inc(java.nio.ByteBuffer leaf, int offset) {
                sm.inc(leaf.getLong(offset));
            }

            @Override
            public void dec(java.nio.ByteBuffer leaf, int offset) {
                sm.dec(leaf.getLong(offset));
            }
        } : ValueType.plain(8);
        BTree tree = new BTree(tm, values, capacity);
        TreeChecker checker = new TreeChecker(tree);
        int maxDepth = 0;

        List<Long> roots = new ArrayList<>();
        List<TreeMap<Long, Long>> models = new ArrayList<>();
        roots.add(tree.create());
        models.add(new TreeMap<>());
        long keySpace = 1 + rnd.nextInt(5000);
        int ops = capacity == BTree.FULL_NODES ? 20000 : 8000;
        for (int op = 0; op < ops; op++) {
            String where = "capacity " + capacity + (counted ? ", counted values" : "") + ", seed " + seed + " op " + op;
            int t = rnd.nextInt(roots.size());
            TreeMap<Long, Long> model = models.get(t);
            int what = rnd.nextInt(100);
            long key = rnd.nextInt(10) == 0 ? rnd.nextLong() & Long.MAX_VALUE : rnd.nextLong(keySpace);
            if (what < 50) {
                // a counted value is a block the tree holds the one reference to
                long value = counted ? sm.allocate() : rnd.nextLong();
                BTree.Result r = tree.insertLong(roots.get(t), key, value);
                assertEquals(model.containsKey(key), r.existed(), where);
                model.put(key, value);
                roots.set(t, r.root());
            } else if (what < 85) {
                BTree.Result r = tree.remove(roots.get(t), key);
                assertEquals(model.remove(key) != null, r.existed(), where);
                roots.set(t, r.root());
            } else if (what < 95) {
                Long expect = model.get(key);
                assertEquals(expect == null ? -1L : expect, tree.lookupLong(roots.get(t), key, -1L), where);
            } else if (what < 97 && roots.size() < 6) {
                tree.share(roots.get(t));
                roots.add(roots.get(t));
                models.add(new TreeMap<>(model));
            } else if (what < 98 && roots.size() > 1) {
                tree.delete(roots.remove(t));
                models.remove(t);
            } else {
                tm.endTransaction();
                sm.markCommitted();
                bm.trim();
            }
            if (op % 2000 == 0 || op == ops - 1) {
                for (int i = 0; i < roots.size(); i++) {
                    maxDepth = Math.max(maxDepth, depth(tm, roots.get(i)));
                    assertEquals(new ArrayList<>(models.get(i).keySet()), checker.check(roots.get(i)), where);
                    assertEquals(models.get(i).isEmpty() ? -1L : models.get(i).lastKey(),
                            tree.lastKey(roots.get(i), -1L), where);
                    for (Map.Entry<Long, Long> e : models.get(i).entrySet()) {
                        assertEquals(e.getValue(), tree.lookupLong(roots.get(i), e.getKey(), -1L), where);
                    }
                }
            }
        }
        for (long r : roots) {
            tree.delete(r);
        }
        assertEquals(1, sm.nrAllocated(), "only the superblock is left after every tree is deleted (capacity "
                + capacity + (counted ? ", counted values" : "") + ", seed " + seed + ")");
        if (capacity <= 16) {
            org.junit.jupiter.api.Assertions.assertTrue(maxDepth >= 3, "capacity " + capacity + " grew trees of "
                    + maxDepth + " levels only: internal splits and merges did not run");
        }
    }

    /** Levels from the root to a leaf (along the first child). */
    private static int depth(TransactionManager tm, long root) {
        int levels = 1;
        Node n = new Node(tm.read(root, NodeValidator.INSTANCE).data(), root);
        while (!n.isLeaf()) {
            long child = n.valueLong(0);
            n = new Node(tm.read(child, NodeValidator.INSTANCE).data(), child);
            levels++;
        }
        return levels;
    }
}
