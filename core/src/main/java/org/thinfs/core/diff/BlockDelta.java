package org.thinfs.core.diff;

import org.thinfs.core.pool.ThinPool;


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

    /** A way to find the ranges to send: between two devices, or written since a time. */
    @FunctionalInterface
    public interface Scan {
        void run(long endBlock, RangeSink sink);
    }

    /** The ranges in which {@code target} differs from {@code base} (-1: every mapped block). */
    public static Scan between(ThinPool pool, long base, long target) {
        return overBaseImage(pool, target, base == -1, (endBlock, sink) -> scan(pool, base, target, endBlock, sink));
    }

    /**
     * {@code scan} for a target over a base image (external origin): there an unmapped block reads the image, not
     * zeros, so what the mappings call REMOVED is CHANGED (it reads the image's bytes now), and a full export
     * ({@code full}: against nothing) sends every block the image shows through. Unchanged for other targets.
     */
    static Scan overBaseImage(ThinPool pool, long target, boolean full, Scan scan) {
        org.thinfs.core.pool.DeviceBase image = pool.bases().get(target);
        if (image == null) {
            return scan;
        }
        long covered = image.coveredBlocks(pool.dataBlockSize());
        return (endBlock, sink) -> {
            long shown = Math.min(covered, endBlock);
            if (full && shown > 0) {
                sink.range(0, shown, Kind.CHANGED);
            }
            scan.run(endBlock, (first, count, kind) -> {
                long end = first + count;
                if (full) {
                    first = Math.max(first, shown);      // sent whole above
                } else if (kind == Kind.REMOVED && first < shown) {
                    sink.range(first, Math.min(end, shown) - first, Kind.CHANGED);
                    first = Math.min(end, shown);
                }
                if (first < end) {
                    sink.range(first, end - first, kind);
                }
            });
        };
    }

    /**
     * The ranges of {@code target} written since pool time {@code since} (mappings stamped at or after it: dm-thin
     * copies a block stamped before a device's snapshot on its next write, so an older stamp means unchanged since)
     * as CHANGED, and every unmapped range as REMOVED, since what was unmapped since is not recorded anywhere. Only
     * valid when {@code target} descends from the device snapshotted at {@code since} with no rollback in between;
     * the caller checks that. Cost: the target's mappings, in chunks.
     */
    public static Scan writtenSince(ThinPool pool, long target, int since) {
        return overBaseImage(pool, target, false, (endBlock, sink) -> {
            long[] run = {-1, 0, -1};                    // first block, count, kind (0 changed, 1 removed)
            long cursor = 0;
            while (cursor < endBlock) {
                long[] m = pool.maps().mappings(target, cursor, endBlock, CHUNK);
                long limit = m.length == 2 * CHUNK ? m[m.length - 2] + 1 : endBlock;
                long from = cursor;
                java.util.List<long[]> stamped = new java.util.ArrayList<>();
                if (m.length > 0) {
                    pool.maps().forEachMapping(target, from, limit, (v, d, t) -> stamped.add(new long[]{v, t}));
                }
                long next = cursor;
                for (long[] vt : stamped) {
                    if (vt[0] > next) {
                        emit(run, next, vt[0] - next, 1, sink);           // a hole: zeros now
                    }
                    if (vt[1] >= since) {
                        emit(run, vt[0], 1, 0, sink);
                    }
                    next = vt[0] + 1;
                }
                if (limit > next) {
                    emit(run, next, limit - next, 1, sink);
                }
                cursor = limit;
            }
            if (run[0] >= 0) {
                sink.range(run[0], run[1], run[2] == 0 ? Kind.CHANGED : Kind.REMOVED);
            }
        });
    }

    /** Adds [first, first + count) of a kind to the run, handing the run on when it cannot grow. */
    private static void emit(long[] run, long first, long count, long kind, RangeSink sink) {
        if (run[0] >= 0 && run[2] == kind && run[0] + run[1] == first) {
            run[1] += count;
            return;
        }
        if (run[0] >= 0) {
            sink.range(run[0], run[1], run[2] == 0 ? Kind.CHANGED : Kind.REMOVED);
        }
        run[0] = first;
        run[1] = count;
        run[2] = kind;
    }

    /** Mappings fetched per device per step: bounds memory whatever the volume holds. */
    private static final int CHUNK = 1 << 16;

    private BlockDelta() {
    }

    /**
     * Scans virtual blocks [0, endBlock). {@code base} may be -1: every mapped block of the target is then CHANGED
     * (a full export). A merge of the two devices' mappings, fetched in chunks: the cost follows what is mapped,
     * never the virtual size, so an 8 EiB volume holding a few blocks scans at once.
     */
    public static void scan(ThinPool pool, long base, long target, long endBlock, RangeSink sink) {
        Run run = new Run(sink);
        long cursor = 0;
        while (cursor < endBlock) {
            long[] t = pool.maps().mappings(target, cursor, endBlock, CHUNK);
            long[] b = base >= 0 ? pool.maps().mappings(base, cursor, endBlock, CHUNK) : new long[0];
            if (t.length == 0 && b.length == 0) {
                break;
            }
            // Up to where both chunks are complete: a full chunk says nothing past its last block.
            long limit = endBlock;
            if (t.length == 2 * CHUNK) {
                limit = Math.min(limit, t[t.length - 2] + 1);
            }
            if (b.length == 2 * CHUNK) {
                limit = Math.min(limit, b[b.length - 2] + 1);
            }
            int i = 0;
            int j = 0;
            while ((i < t.length && t[i] < limit) || (j < b.length && b[j] < limit)) {
                long tv = i < t.length && t[i] < limit ? t[i] : Long.MAX_VALUE;
                long bv = j < b.length && b[j] < limit ? b[j] : Long.MAX_VALUE;
                long v = Math.min(tv, bv);
                long td = tv == v ? t[i + 1] : -1;
                long bd = bv == v ? b[j + 1] : -1;
                i += tv == v ? 2 : 0;
                j += bv == v ? 2 : 0;
                Kind k = null;
                if (td >= 0 && td != bd) {
                    k = Kind.CHANGED;
                } else if (td < 0 && bd >= 0) {
                    k = Kind.REMOVED;
                }
                run.add(v, k);
            }
            cursor = limit;
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
