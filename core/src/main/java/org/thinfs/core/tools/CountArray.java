package org.thinfs.core.tools;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Reference counts indexed by block number, for recounting space maps and sharing: one byte per block in pages
 * allocated on first touch (a sparse range of a huge data device costs little), counts of 255 and more kept in a
 * map, and blocks past {@value #DENSE_LIMIT} (only corrupt metadata names them) kept in a map too. Not
 * thread-safe.
 */
final class CountArray {
    private static final int PAGE_BITS = 16;
    private static final int PAGE_SIZE = 1 << PAGE_BITS;
    private static final int SATURATED = 255;
    /** 2^36 blocks: the page table stays below 8 MiB of references. */
    static final long DENSE_LIMIT = 1L << 36;

    private byte[][] pages = new byte[16][];
    /** Counts ≥ 255 of dense blocks, and every count of blocks ≥ DENSE_LIMIT. */
    private final Map<Long, Long> large = new HashMap<>();

    /** Adds one to the count of {@code i} (≥ 0) and returns the new count. */
    long increment(long i) {
        if (i < 0 || i >= DENSE_LIMIT) {
            return large.merge(i, 1L, Long::sum);
        }
        int p = (int) (i >>> PAGE_BITS);
        if (p >= pages.length) {
            pages = Arrays.copyOf(pages, Math.max(p + 1, pages.length * 2));
        }
        byte[] page = pages[p];
        if (page == null) {
            page = new byte[PAGE_SIZE];
            pages[p] = page;
        }
        int off = (int) (i & (PAGE_SIZE - 1));
        int c = page[off] & 0xFF;
        if (c < SATURATED - 1) {
            page[off] = (byte) (c + 1);
            return c + 1;
        }
        if (c == SATURATED - 1) {
            page[off] = (byte) SATURATED;
            large.put(i, (long) SATURATED);
            return SATURATED;
        }
        return large.merge(i, 1L, Long::sum);
    }

    long get(long i) {
        if (i < 0 || i >= DENSE_LIMIT) {
            return large.getOrDefault(i, 0L);
        }
        int p = (int) (i >>> PAGE_BITS);
        byte[] page = p < pages.length ? pages[p] : null;
        if (page == null) {
            return 0;
        }
        int c = page[(int) (i & (PAGE_SIZE - 1))] & 0xFF;
        return c < SATURATED ? c : large.get(i);
    }
}
