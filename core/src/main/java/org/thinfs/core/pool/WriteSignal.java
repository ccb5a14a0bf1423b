package org.thinfs.core.pool;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Tells one waiting thread that the data store was written since it last looked, and how much, so background work
 * that only matters after writes (the mount's write-behind) sleeps while the pool is idle instead of waking on a
 * timer, and wakes early when a burst of writes has gathered enough to be worth starting on.
 *
 * <p>Writers pay one atomic add and one volatile read per write, and an unpark only on the first write after the
 * waiter cleared the flag or on the write that crosses the amount the waiter gathers for. Nothing rests on a wake-up
 * arriving: a lost one only means the waiter's own time limit ends its wait.
 */
public final class WriteSignal {
    private volatile boolean written;
    private volatile Thread waiter;
    /** Bytes written since the waiter last took them ({@link #gather}). */
    private final AtomicLong gathered = new AtomicLong();
    /** While a waiter gathers: the amount that ends its wait early; else Long.MAX_VALUE. */
    private volatile long gatherFor = Long.MAX_VALUE;

    /** A write of {@code bytes} happened (called by the store on every write). */
    void written(long bytes) {
        long before = gathered.getAndAdd(bytes);
        if (!written) {
            written = true;
            wake();
        } else if (before < gatherFor && before + bytes >= gatherFor) {
            wake();
        }
    }

    private void wake() {
        Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
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

    /**
     * Sleeps until {@code bytes} have been written since the last call returned (or since the store opened), an
     * unpark of the calling thread, or {@code maxNanos}, whichever is first; then takes what was written, so the next
     * call counts from here. The same thread as {@link #await}.
     *
     * @return the bytes written since the last call
     */
    public long gather(long bytes, long maxNanos) {
        long deadline = System.nanoTime() + maxNanos;
        waiter = Thread.currentThread();
        gatherFor = bytes;
        try {
            long left;
            while (gathered.get() < bytes && (left = deadline - System.nanoTime()) > 0) {
                LockSupport.parkNanos(this, left);
                if (Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        } finally {
            gatherFor = Long.MAX_VALUE;
            waiter = null;
        }
        return gathered.getAndSet(0);
    }
}
