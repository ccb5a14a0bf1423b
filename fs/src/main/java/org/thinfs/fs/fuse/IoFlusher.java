package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Marks the calling thread as part of the I/O path ({@code prctl(PR_SET_IO_FLUSHER)}, Linux 5.6): its memory
 * allocations do not recurse into I/O and its writes are throttled only by its own backing device, as the kernel
 * asks of a user-space daemon that cleans dirty pages (a FUSE daemon under the writeback cache writes the kernel's
 * dirty pages into its data file; held up by the global dirty limit those very pages fill, it would stall).
 * Needs CAP_SYS_RESOURCE; best effort.
 */
final class IoFlusher {
    private static final Logger LOG = LoggerFactory.getLogger(IoFlusher.class);
    private static final int PR_SET_IO_FLUSHER = 57;

    /** {@code int prctl(int option, unsigned long arg2, ...)}. */
    public interface Libc {
        int prctl(int option, long arg2, long arg3, long arg4, long arg5);
    }

    private static final Libc C = LibraryLoader.create(Libc.class).failImmediately().load("c");

    private IoFlusher() {
    }

    static void markCurrentThread() {
        if (C.prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0) {
            LOG.debug("prctl(PR_SET_IO_FLUSHER) refused for {}", Thread.currentThread().getName());
        }
    }
}
