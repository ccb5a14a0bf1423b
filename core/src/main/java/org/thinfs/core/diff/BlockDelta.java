package org.thinfs.core.diff;

import org.thinfs.core.pool.ThinPool;

import java.util.Arrays;

/**
 * The virtual block ranges in which device {@code target} differs from device {@code base} of the same pool, found
 * from the mappings alone: two devices that map a virtual block to the same data block hold the same bytes there
 * (a snapshot and its origin share blocks until one side writes). Scans in windows so memory stays bounded.
 */
public final class BlockDelta {
    /** What a range of the target looks like against the base. */
    public enum Kind {
        /** The target maps these blocks to other data than the base: copy them. */
        CHANGED,
        /** The base maps these blocks and the target does not: they read as zeros now. */
        REMOVED
    }

    /** Receives maximal runs of blocks of one kind, in ascending order. */
    @FunctionalInterface
    public interface RangeSink {
        void range(long firstBlock, long count, Kind kind);
    }

    private static final int WINDOW = 1 << 16;

    private BlockDelta() {
    }

    /**
     * Scans virtual blocks [0, endBlock). {@code base} may be -1: every mapped block of the target is then CHANGED
     * (a full export).
     */
    public static void scan(ThinPool pool, long base, long target, long endBlock, RangeSink sink) {
        Run run = new Run(sink);
        long[] baseMap = new long[WINDOW];
        long[] targetMap = new long[WINDOW];
        for (long from = 0; from < endBlock; from += WINDOW) {
            long to = Math.min(endBlock, from + WINDOW);
            long start = from;
            Arrays.fill(baseMap, -1);
            Arrays.fill(targetMap, -1);
            if (base >= 0) {
                pool.forEachMapping(base, from, to, (v, d, t) -> baseMap[(int) (v - start)] = d);
            }
            pool.forEachMapping(target, from, to, (v, d, t) -> targetMap[(int) (v - start)] = d);
            for (int i = 0; i < to - from; i++) {
                Kind k = null;
                if (targetMap[i] >= 0 && targetMap[i] != baseMap[i]) {
                    k = Kind.CHANGED;
                } else if (targetMap[i] < 0 && baseMap[i] >= 0) {
                    k = Kind.REMOVED;
                }
                run.add(from + i, k);
            }
        }
        run.flush();
    }

    /** Coalesces consecutive blocks of one kind. */
    private static final class Run {
        private final RangeSink sink;
        private long first = -1;
        private long count;
        private Kind kind;

        Run(RangeSink sink) {
            this.sink = sink;
        }

        void add(long block, Kind k) {
            if (k != null && k == kind && first + count == block) {
                count++;
                return;
            }
            flush();
            if (k != null) {
                first = block;
                count = 1;
                kind = k;
            }
        }

        void flush() {
            if (kind != null) {
                sink.range(first, count, kind);
            }
            kind = null;
            first = -1;
            count = 0;
        }
    }
}
