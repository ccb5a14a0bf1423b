package org.thinfs.core.pool;

import java.util.concurrent.locks.LockSupport;

/**
 * Tells one waiting thread that the data store was written since it last looked, so background work that only
 * matters after writes (the mount's write-behind) sleeps while the pool is idle instead of waking on a timer.
 *
 * <p>Writers pay one volatile read while the flag is already set, and a flag write plus an unpark only on the first
 * write after the waiter cleared it (at most once per waiter's pass, every few milliseconds under load).
 */
public final class WriteSignal {
    private volatile boolean written;
    private volatile Thread waiter;

    /** A write happened (called by the store on every write). */
    void written() {
        if (!written) {
            written = true;
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    /**
     * Returns at once, clearing the flag, if anything was written since the last call; else sleeps until a write, an
     * unpark of the calling thread (how its owner stops it) or {@code maxNanos}, whichever is first. One thread at a
     * time.
     *
     * @return whether anything was written (false: look again, or stop)
     */
    public boolean await(long maxNanos) {
        if (!written) {
            waiter = Thread.currentThread();
            try {
                if (!written) {                          // a write between the check and the publication above
                    LockSupport.parkNanos(this, maxNanos);
                }
            } finally {
                waiter = null;
            }
        }
        if (!written) {
            return false;
        }
        written = false;
        return true;
    }
}
