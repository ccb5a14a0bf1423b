package org.thinfs.core.io;

import java.nio.ByteBuffer;

/**
 * Direct buffers that start on a page boundary, for data copied to and from files and sockets.
 *
 * <p>Why: {@code ByteBuffer.allocateDirect} returns malloc's pointer, which for a large buffer is 16 bytes into a
 * fresh mapping. The kernel's copies between the page cache and such a buffer (every pread and pwrite of a data
 * block) run with a misaligned destination or source: on the machine of BENCHMARKS.md (session 17), an NBD server's
 * 1 MiB reads at depth 1 cost it a quarter less CPU once its reused buffers were page-aligned.
 */
public final class AlignedBuffers {
    public static final int PAGE = 4096;

    private AlignedBuffers() {
    }

    /** A direct buffer of exactly {@code capacity} bytes whose first byte is page-aligned. */
    public static ByteBuffer allocate(int capacity) {
        ByteBuffer raw = ByteBuffer.allocateDirect(capacity + PAGE);
        int past = raw.alignmentOffset(0, PAGE);            // how far the first byte lies past a page boundary
        return raw.slice(past == 0 ? 0 : PAGE - past, capacity);
    }
}
