package org.thinfs.core.pool;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.zip.CRC32C;

/**
 * Which (device, block) recently served each block content read whole, by a content key, so that a write of the same
 * bytes elsewhere can be recognised as a copy (see {@link CopySharing}).
 *
 * <p>The table is lossy and lock-free: each key has a bucket of {@link #WAYS} entries (blocks equal in the sampled
 * slices, or whose keys share a bucket, live side by side), a new read replaces the bucket's oldest entry, entries
 * expire after {@link #TTL_NANOS}, and a racing reader may see either of two entries. None of that can make sharing wrong, only missed:
 * every candidate is verified byte for byte under locks before a block is shared. The key is a CRC32C of sixteen
 * 256-byte slices spread over the block (4 KiB of a 64 KiB block; about 80 ns), not of the whole block: it only
 * chooses which block to compare, and blocks equal in every slice but not elsewhere cost one compare.
 */
final class RecentReads {
    static final long TTL_NANOS = 30_000_000_000L;
    private static final int BUCKETS = 1 << 12;
    static final int WAYS = 4;
    private static final int SLICES = 16;
    private static final int SLICE = 256;

    private record Entry(int key, long device, long vblock, long atNanos) {
    }

    private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(BUCKETS * WAYS);
    /** When a read was last recorded (nanoTime), so writes pay nothing while no reads happen. */
    private volatile long lastRecordNanos = System.nanoTime() - 2 * TTL_NANOS;

    /** The content key of bytes [pos, pos + len) of {@code buf} (absolute positions; len at least 4 KiB). */
    static int key(ByteBuffer buf, int pos, int len) {
        CRC32C crc = new CRC32C();
        int step = len / SLICES;
        for (int i = 0; i < SLICES; i++) {
            crc.update(buf.slice(pos + i * step, Math.min(SLICE, step)));
        }
        return (int) crc.getValue();
    }

    void record(int key, long device, long vblock) {
        long now = System.nanoTime();
        int base = (key & (BUCKETS - 1)) * WAYS;
        int victim = base;
        for (int i = base; i < base + WAYS; i++) {
            Entry e = slots.get(i);
            if (e == null || e.device == device && e.vblock == vblock) {
                victim = i;                              // a free way, or this block's own entry
                break;
            }
            if (e.atNanos - slots.get(victim).atNanos < 0) {
                victim = i;
            }
        }
        slots.lazySet(victim, new Entry(key, device, vblock, now));
        if (now - lastRecordNanos > 1_000_000) {        // one volatile write a millisecond, not one a read
            lastRecordNanos = now;
        }
    }

    /** Whether anything was read whole recently: writes look for copies only then. */
    boolean active() {
        return System.nanoTime() - lastRecordNanos < TTL_NANOS;
    }

    /** The (device, block) pairs recently read with this key, newest first (at most {@link #WAYS}). */
    List<long[]> find(int key) {
        int base = (key & (BUCKETS - 1)) * WAYS;
        long now = System.nanoTime();
        List<Entry> found = new ArrayList<>(WAYS);
        for (int i = base; i < base + WAYS; i++) {
            Entry e = slots.get(i);
            if (e != null && e.key == key && now - e.atNanos < TTL_NANOS) {
                found.add(e);
            }
        }
        found.sort((x, y) -> Long.compare(y.atNanos, x.atNanos));
        List<long[]> out = new ArrayList<>(found.size());
        for (Entry e : found) {
            out.add(new long[]{e.device, e.vblock});
        }
        return out;
    }
}
