package org.thinfs.core.btree;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.io.MemoryBlockDevice;
import org.thinfs.core.sm.CoreSpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random inserts, removes, lookups, commits and snapshots (shared roots) against TreeMap models. Every tree must
 * keep its own content however the others change, and releasing every tree must free every block (no leak, no
 * double free). Failures name the seed and the operation number.
 */
class BTreeRandomTest {
    private static final int BLOCKS = 20000;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 1234})
    void randomOperationsAgainstModel(long seed) {
        Random rnd = new Random(seed);
        CoreSpaceMap sm = new CoreSpaceMap("metadata", BLOCKS, () -> new ThinfsException("full"));
        sm.setCount(0, 1);
        BlockManager bm = new BlockManager(new MemoryBlockDevice(BLOCKS), 256, true);
        TransactionManager tm = new TransactionManager(bm, sm);
        BTree tree = new BTree(tm, ValueType.plain(8));
        TreeChecker checker = new TreeChecker(tree);

        List<Long> roots = new ArrayList<>();
        List<TreeMap<Long, Long>> models = new ArrayList<>();
        roots.add(tree.create());
        models.add(new TreeMap<>());
        long keySpace = 1 + rnd.nextInt(5000);
        int ops = 20000;
        for (int op = 0; op < ops; op++) {
            String where = "seed " + seed + " op " + op;
            int t = rnd.nextInt(roots.size());
            TreeMap<Long, Long> model = models.get(t);
            int what = rnd.nextInt(100);
            long key = rnd.nextInt(10) == 0 ? rnd.nextLong() & Long.MAX_VALUE : rnd.nextLong(keySpace);
            if (what < 50) {
                long value = rnd.nextLong();
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
        assertEquals(1, sm.nrAllocated(), "only the superblock is left after every tree is deleted (seed " + seed
                + ")");
    }
}
