package org.thinfs.fs.fuse;

/**
 * How requests travel between the kernel and the daemon.
 *
 * @param threads Java threads serving requests, made once per mount ({@link PinnedThreadsFuseFS})
 * @param maxRequest the largest read or write request to ask the kernel for: 128 KiB is libfuse2's own limit, up to
 *     1 MiB when the kernel allows it ({@link InitReply})
 */
public record FuseTransport(int threads, int maxRequest) {
    public static final FuseTransport DEFAULT = new FuseTransport(16, PinnedThreadsFuseFS.MAX_REQUEST);

    public FuseTransport {
        if (threads < 1) {
            throw new IllegalArgumentException("at least one FUSE thread is needed, not " + threads);
        }
        InitReply.checkRequestSize(maxRequest);
    }
}
