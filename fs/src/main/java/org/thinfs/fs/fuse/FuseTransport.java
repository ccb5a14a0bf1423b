package org.thinfs.fs.fuse;

/**
 * How requests travel between the kernel and the daemon.
 *
 * @param threads Java threads serving requests, made once per mount ({@link PinnedThreadsFuseFS})
 * @param maxRequest the largest read or write request to ask the kernel for: 128 KiB is libfuse2's own limit, up to
 *     1 MiB when the kernel allows it ({@link InitReply})
 * @param writebackCache ask for FUSE's writeback cache: the kernel keeps small writes in its page cache and sends
 *     them in large requests later; every operation that must see them first flushes it ({@link KernelWriteback})
 */
public record FuseTransport(int threads, int maxRequest, boolean writebackCache) {
    public static final FuseTransport DEFAULT = new FuseTransport(16, PinnedThreadsFuseFS.MAX_REQUEST, false);

    public FuseTransport(int threads, int maxRequest) {
        this(threads, maxRequest, false);
    }

    public FuseTransport {
        if (threads < 1) {
            throw new IllegalArgumentException("at least one FUSE thread is needed, not " + threads);
        }
        InitReply.checkRequestSize(maxRequest);
    }
}
