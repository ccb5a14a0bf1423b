package org.thinfs.core.pool;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Counts the bytes written to a data store and tells one waiting thread about them, so background work that only
 * matters after writes (the mount's write-behind) sleeps while the pool is idle instead of waking on a timer, and
 * wakes early when a burst of writes has gathered enough to be worth starting on. The store's count of unflushed
 * bytes is read from here too ({@link #total}), so a write updates one counter.
 *
 * <p>Writers pay one atomic add and one volatile read per write, and an unpark only on the first write after the
 * waiter cleared the flag or on the write that crosses the total the waiter gathers for. Nothing rests on a wake-up
 * arriving: a lost one only means the waiter's own time limit ends its wait.
 */
public final class WriteSignal {
    private volatile boolean written;
    private volatile Thread waiter;
    /** Bytes written since the store opened. */
    private final AtomicLong total = new AtomicLong();
    /** While a waiter gathers: the total that ends its wait early; else Long.MAX_VALUE. */
    private volatile long gatherUntil = Long.MAX_VALUE;
    /** The total the last {@link #gather} took up to (the waiter's thread only). */
    private long taken;

    /**
     * The 1 MiB chunks of the store written since the last {@link #drainChunks}, kept only once a write-behind asked
     * for them ({@link #trackChunks}). A chunk missed (see {@link #lastChunk}) costs nothing but an early writeback:
     * durability rests on the commit's flush, never on this set.
     */
    private final Set<Long> chunks = ConcurrentHashMap.newKeySet();
    private volatile boolean trackChunks;
    /** The chunk the last write recorded: a run of writes into one chunk adds it once (racy, and harmless). */
    private volatile long lastChunk = -1;
    /** log2 of a chunk's size. */
    public static final int CHUNK_SHIFT = 20;

    /** A write of {@code bytes} at {@code pos} happened (the store calls this on every write, before it writes). */
    void written(long pos, long bytes) {
        if (trackChunks && bytes > 0) {
            long last = (pos + bytes - 1) >>> CHUNK_SHIFT;
            for (long c = pos >>> CHUNK_SHIFT; c <= last; c++) {
                if (c != lastChunk) {
                    chunks.add(c);
                    lastChunk = c;
                }
            }
        }
        long before = total.getAndAdd(bytes);
        if (!written) {
            written = true;
            wake();
        } else if (before < gatherUntil && before + bytes >= gatherUntil) {
            wake();
        }
    }

    /** From now on, remember which chunks writes touch ({@link #drainChunks}). */
    public void trackChunks() {
        trackChunks = true;
    }

    /** Whether a write-behind follows these writes (it asked for {@link #trackChunks}). */
    public boolean writeBehindFollows() {
        return trackChunks;
    }

    /** The chunks written since the last call (indexes of 1 MiB chunks, ascending), forgotten here. */
    public long[] drainChunks() {
        lastChunk = -1;
        long[] out = new long[Math.max(16, chunks.size())];
        int n = 0;
        for (Iterator<Long> it = chunks.iterator(); it.hasNext(); ) {
            if (n == out.length) {
                out = Arrays.copyOf(out, n * 2);
            }
            out[n++] = it.next();
            it.remove();
        }
        out = Arrays.copyOf(out, n);
        Arrays.sort(out);
        lastChunk = -1;             // a write into the last chunk taken must add it again
        return out;
    }

    /** Bytes written since the store opened. */
    long total() {
        return total.get();
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
     * interrupt or unpark of the calling thread, or {@code maxNanos}, whichever is first; then takes what was
     * written, so the next call counts from here. The same thread as {@link #await}.
     *
     * @return the bytes written since the last call
     */
    public long gather(long bytes, long maxNanos) {
        long deadline = System.nanoTime() + maxNanos;
        long until = taken + bytes;
        waiter = Thread.currentThread();
        gatherUntil = until;
        try {
            long left;
            while (total.get() < until && (left = deadline - System.nanoTime()) > 0
                    && !Thread.currentThread().isInterrupted()) {
                LockSupport.parkNanos(this, left);
            }
        } finally {
            gatherUntil = Long.MAX_VALUE;
            waiter = null;
        }
        long now = total.get();
        long gathered = now - taken;
        taken = now;
        return gathered;
    }
}
