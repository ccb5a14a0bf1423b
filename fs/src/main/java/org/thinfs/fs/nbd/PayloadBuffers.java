package org.thinfs.fs.nbd;

import org.thinfs.core.io.AlignedBuffers;

import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingDeque;

/**
 * Direct buffers for request payloads and read replies, reused across requests and connections of one server.
 *
 * <p>Why: a buffer allocated per request is freed only by a GC, and nothing else fills the small heap of the daemon,
 * so direct memory runs out first and every allocation past it forces a full {@code System.gc()}; each allocation
 * also zeroes its memory. Here a request takes a buffer of the next power of two (4 KiB to 4 MiB) from a free list
 * and gives it back after its reply is written. Free lists hold at most {@link #CACHED_BYTES} per size, so what
 * stays allocated while idle is bounded; what is in use is bounded by the server's payload budget (NbdExports).
 * Larger requests (up to the protocol's 32 MiB) get a buffer of their own.
 *
 * <p>Buffers are page-aligned ({@link AlignedBuffers} says why) and reused last in, first out: the buffer a request
 * takes is the one the last request gave back, still in the CPU's caches and TLB. Taken first in, first out, 1 MiB
 * reads at depth 1 went round 16 buffers and the server spent a quarter more CPU, the extra in the kernel's copy
 * into them (session 17).
 */
final class PayloadBuffers {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 22;
    private static final int CACHED_BYTES = 16 << 20;

    @SuppressWarnings("unchecked")
    private final LinkedBlockingDeque<ByteBuffer>[] free = new LinkedBlockingDeque[MAX_SHIFT - MIN_SHIFT + 1];

    PayloadBuffers() {
        for (int s = MIN_SHIFT; s <= MAX_SHIFT; s++) {
            free[s - MIN_SHIFT] = new LinkedBlockingDeque<>(Math.max(2, CACHED_BYTES >> s));
        }
    }

    /** A direct buffer with position 0 and limit {@code length}; give it back with {@link #release}. */
    ByteBuffer acquire(int length) {
        int shift = shiftFor(length);
        if (shift > MAX_SHIFT) {
            return AlignedBuffers.allocate(length);
        }
        ByteBuffer b = free[shift - MIN_SHIFT].pollFirst();
        if (b == null) {
            b = AlignedBuffers.allocate(1 << shift);
        }
        return b.clear().limit(length);
    }

    /** Takes back a buffer from {@link #acquire} (null is ignored); one too many for its free list is dropped. */
    void release(ByteBuffer b) {
        if (b == null) {
            return;
        }
        int cap = b.capacity();
        if (Integer.bitCount(cap) != 1 || cap < 1 << MIN_SHIFT || cap > 1 << MAX_SHIFT) {
            return;                                  // a large request's own buffer: the GC frees it
        }
        free[Integer.numberOfTrailingZeros(cap) - MIN_SHIFT].offerFirst(b);
    }

    private static int shiftFor(int length) {
        int shift = length <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(length - 1);
        return Math.max(MIN_SHIFT, shift);
    }
}
