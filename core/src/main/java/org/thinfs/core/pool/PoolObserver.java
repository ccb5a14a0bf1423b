package org.thinfs.core.pool;

/**
 * What a pool tells a metrics collector as it happens, beyond its events: each commit's duration and each pause of a
 * writer waiting for space ({@code when-full=wait}). Called on the thread doing the work, so an implementation only
 * adds to counters. The engine knows nothing of the exposition format; the front end's metrics implement this.
 */
public interface PoolObserver {
    PoolObserver NONE = new PoolObserver() {
    };

    /** A metadata commit finished after {@code nanos}, the wait for the I/O gate included. */
    default void committed(long nanos) {
    }

    /** A writer of a full pool was held {@code nanos} before trying again. */
    default void waitedForSpace(long nanos) {
    }
}
