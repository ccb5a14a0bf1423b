package org.thinfs.core.pool;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Locks on (device, virtual block) pairs. Exclusive: held by a request that may change the block's mapping
 * (provision, copy, unmap, share) from planning to publishing, so one block is never provisioned or copied twice.
 * Shared: held by a small write into a block that stays where it is ({@link BlockChange#changeInPlaceShared}), so
 * several such writes into one block go at once while nothing that remaps the block runs beside them.
 *
 * <p>Exclusive locks are taken in ascending block order, so two requests over overlapping ranges cannot deadlock; a
 * shared holder holds one block and takes no other block lock while holding it (only the metadata lock, which
 * comes after block locks in every request's order). A waiting exclusive locker stops new
 * shared holders from coming in, so a steady stream of small writes cannot starve a copy or a discard. Blocks of
 * other devices or other ranges never wait.
 */
final class BlockLocks {
    private record Key(long device, long block) {
    }

    /** One block's state; guarded by its own monitor. Gone from the map once nobody holds or awaits it. */
    private static final class Entry {
        int sharedHolders;
        boolean exclusive;
        int waiting;
        int exclusiveWaiting;
        boolean removed;
    }

    private final ConcurrentHashMap<Key, Entry> held = new ConcurrentHashMap<>();
    /** Shared locks taken so far (tests check that the shared path runs). */
    private final java.util.concurrent.atomic.LongAdder sharedTaken = new java.util.concurrent.atomic.LongAdder();

    /** Locks blocks [first, last] of {@code device} exclusively. */
    void lock(long device, long first, long last) {
        for (long b = first; b <= last; b++) {
            try {
                acquire(new Key(device, b), true);
            } catch (InterruptedException e) {
                unlock(device, first, b - 1);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a block lock", e);
            }
        }
    }

    void unlock(long device, long first, long last) {
        for (long b = first; b <= last; b++) {
            release(new Key(device, b), true);
        }
    }

    /** Locks block {@code block} of {@code device} shared. */
    void lockShared(long device, long block) {
        try {
            acquire(new Key(device, block), false);
            sharedTaken.increment();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a block lock", e);
        }
    }

    long sharedTaken() {
        return sharedTaken.sum();
    }

    void unlockShared(long device, long block) {
        release(new Key(device, block), false);
    }

    private void acquire(Key key, boolean exclusive) throws InterruptedException {
        while (true) {
            Entry e = held.computeIfAbsent(key, k -> new Entry());
            synchronized (e) {
                if (e.removed) {
                    continue;                          // emptied and dropped before this thread got in: a new one
                }
                e.waiting++;
                if (exclusive) {
                    e.exclusiveWaiting++;
                }
                boolean got = false;
                try {
                    while (exclusive ? e.exclusive || e.sharedHolders > 0 : e.exclusive || e.exclusiveWaiting > 0) {
                        e.wait();
                    }
                    got = true;
                } finally {
                    e.waiting--;
                    if (exclusive) {
                        e.exclusiveWaiting--;
                    }
                    if (!got) {                            // interrupted: others may wait on this waiter
                        dropIfIdle(key, e);
                        e.notifyAll();
                    }
                }
                if (exclusive) {
                    e.exclusive = true;
                } else {
                    e.sharedHolders++;
                }
                return;
            }
        }
    }

    private void release(Key key, boolean exclusive) {
        Entry e = held.get(key);
        if (e == null) {
            return;
        }
        synchronized (e) {
            if (exclusive) {
                e.exclusive = false;
            } else {
                e.sharedHolders--;
            }
            dropIfIdle(key, e);
            e.notifyAll();
        }
    }

    /** Under e's monitor: an entry nobody holds or awaits leaves the map (and is marked, for racing lockers). */
    private void dropIfIdle(Key key, Entry e) {
        if (!e.exclusive && e.sharedHolders == 0 && e.waiting == 0) {
            e.removed = true;
            held.remove(key, e);
        }
    }
}
