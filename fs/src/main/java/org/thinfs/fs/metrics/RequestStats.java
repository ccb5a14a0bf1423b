package org.thinfs.fs.metrics;

/**
 * What a front end (FUSE, NBD) tells the metrics about each request it answered: its operation, the bytes it moved
 * (reads and writes; 0 otherwise) and whether it failed. Called on the request's thread: it only adds to counters.
 */
public interface RequestStats {
    RequestStats NONE = (op, bytes, failed) -> { };

    void done(String op, long bytes, boolean failed);

    /** A write's {@code bytes} went from the request into the data file without a copy through the daemon (splice). */
    default void spliced(long bytes) {
    }
}
