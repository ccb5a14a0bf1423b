package org.thinfs.core.pool;

import java.util.Map;
import java.util.TreeMap;

/**
 * Free data blocks that are known to read as zeros from the data file: holes punched by this process, with no
 * write since. A write that provisions such a block writes only its own bytes; the rest of the block is already
 * zeros, so the 60 KiB of zeros around a 4 KiB write into a fresh 64 KiB block are never written (qcow2 gets its
 * fresh clusters' zeros from the host file's holes the same way).
 *
 * <p>Invariant: every block in the set is free in the current and in the committed space map, and no byte has been
 * written to its range of the data file since the hole punch that put it here: a block leaves the set when it is
 * allocated, whatever for (Committer#takeKnownZero), so freeing one needs no check. The set only ever loses blocks
 * except through {@link #add}, which the pool calls right after a successful punch of blocks that are free and
 * that no request can allocate meanwhile (it holds the gate). Losing a block is always safe (it is zeroed when
 * provisioned, as before), so the set is capped and kept only in memory: after a crash or on a pool opened
 * elsewhere nothing is known until the pool punches its free space again.
 *
 * <p>Runs of blocks, not single blocks: free space is a few long runs, and provisioning takes blocks from the
 * front of a run. Not thread-safe: the pool guards it with its metadata lock.
 */
final class KnownZeroBlocks {
    /** Most runs kept; past it the shortest new runs are not recorded (only a cost, never a risk). */
    static final int MAX_RUNS = 1 << 18;

    /** start → end (exclusive), disjoint and never adjacent. */
    private final TreeMap<Long, Long> runs = new TreeMap<>();
    private long blocks;

    /** Records [from, to) as holes (just punched, free, and not allocatable until this returns). */
    void add(long from, long to) {
        if (from >= to) {
            return;
        }
        Map.Entry<Long, Long> before = runs.floorEntry(from);
        if (before != null && before.getValue() >= from) {
            if (before.getValue() >= to) {
                return;
            }
            from = before.getKey();
            blocks -= before.getValue() - before.getKey();
            runs.remove(before.getKey());
        }
        for (Map.Entry<Long, Long> next = runs.ceilingEntry(from); next != null && next.getKey() <= to;
             next = runs.ceilingEntry(from)) {
            to = Math.max(to, next.getValue());
            blocks -= next.getValue() - next.getKey();
            runs.remove(next.getKey());
        }
        if (runs.size() >= MAX_RUNS) {
            return;
        }
        runs.put(from, to);
        blocks += to - from;
    }

    /**
     * Takes block {@code b} out of the set: it is being allocated (and will be written) or was freed with
     * unknown content. Returns whether it was in the set, that is, whether it reads as zeros now.
     */
    boolean take(long b) {
        Map.Entry<Long, Long> r = runs.floorEntry(b);
        if (r == null || r.getValue() <= b) {
            return false;
        }
        long start = r.getKey();
        long end = r.getValue();
        runs.remove(start);
        blocks -= end - start;
        if (start < b && b + 1 < end && runs.size() + 2 > MAX_RUNS) {
            // No room for both halves: keep the longer one, forget the other (it will be zeroed when used).
            if (b - start >= end - b - 1) {
                end = b + 1;
            } else {
                start = b;
            }
        }
        if (start < b) {
            runs.put(start, b);
            blocks += b - start;
        }
        if (b + 1 < end) {
            runs.put(b + 1, end);
            blocks += end - b - 1;
        }
        return true;
    }

    /** Forgets everything (after a rollback nothing about the data file's content is assumed). */
    void clear() {
        runs.clear();
        blocks = 0;
    }

    /** How many blocks are known to be zeros. */
    long blocks() {
        return blocks;
    }

    /** How many runs hold them. */
    int runs() {
        return runs.size();
    }
}
