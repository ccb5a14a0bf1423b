package org.thinfs.core.tools;

import java.util.Arrays;

/**
 * The entries of a ref-count tree (block → count ≥ 3) in two parallel arrays, read back in ascending block order
 * with a cursor. Compact enough for millions of entries.
 */
final class RefCountEntries {
    private long[] keys = new long[64];
    private long[] counts = new long[64];
    private int size;
    private boolean sorted = true;
    private int cursor;

    void add(long key, long count) {
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            counts = Arrays.copyOf(counts, size * 2);
        }
        if (size > 0 && Long.compareUnsigned(keys[size - 1], key) >= 0) {
            sorted = false;
        }
        keys[size] = key;
        counts[size] = count;
        size++;
    }

    int size() {
        return size;
    }

    /** Sorts by key if the tree was out of order (already reported); later duplicates win. */
    void finish() {
        if (sorted) {
            return;
        }
        Integer[] order = new Integer[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compareUnsigned(keys[a], keys[b]));
        long[] k = new long[size];
        long[] c = new long[size];
        for (int i = 0; i < size; i++) {
            k[i] = keys[order[i]];
            c[i] = counts[order[i]];
        }
        keys = k;
        counts = c;
        sorted = true;
    }

    /** Key at the cursor, or -1 when none is left. */
    long peekKey() {
        return cursor < size ? keys[cursor] : -1;
    }

    long peekCount() {
        return counts[cursor];
    }

    void advance() {
        cursor++;
    }
}
