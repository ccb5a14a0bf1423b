package org.thinfs.core.pool;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * Exclusive locks on (device, virtual block) pairs, held by a write from planning to publishing its mappings, so
 * one block is never provisioned or copied twice. Locks are taken in ascending block order, so two requests over
 * overlapping ranges cannot deadlock. Blocks of other devices or other ranges never wait.
 */
final class BlockLocks {
    private record Key(long device, long block) {
    }

    private final ConcurrentHashMap<Key, CountDownLatch> held = new ConcurrentHashMap<>();

    /** Locks blocks [first, last] of {@code device}. */
    void lock(long device, long first, long last) {
        for (long b = first; b <= last; b++) {
            Key key = new Key(device, b);
            CountDownLatch mine = new CountDownLatch(1);
            while (true) {
                CountDownLatch other = held.putIfAbsent(key, mine);
                if (other == null) {
                    break;
                }
                try {
                    other.await();
                } catch (InterruptedException e) {
                    unlock(device, first, b - 1);
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a block lock", e);
                }
            }
        }
    }

    void unlock(long device, long first, long last) {
        for (long b = first; b <= last; b++) {
            CountDownLatch l = held.remove(new Key(device, b));
            if (l != null) {
                l.countDown();
            }
        }
    }
}
