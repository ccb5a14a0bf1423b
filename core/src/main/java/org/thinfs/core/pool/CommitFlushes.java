package org.thinfs.core.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The flushes a commit waits for before it writes its superblock, run side by side on helper threads while the
 * committing thread writes and flushes the metadata blocks: the data store's flush and whatever the caller must make
 * durable with it (the catalog slot of the next transaction).
 *
 * <p>Why they may overlap: until the superblock is written, nothing on disk points at what they make durable (the
 * new metadata blocks are shadows the committed superblock does not reach; the catalog slot is the one the committed
 * transaction does not use; the data blocks are mapped only by the new metadata). The superblock waits for all of
 * them ({@link #await}), so the rule stays "data and catalog durable before the superblock that points at them,
 * superblock last", and a commit costs the longest of the flushes instead of their sum.
 */
final class CommitFlushes {
    /**
     * Two threads kept for the two flushes every commit makes; more are made if commits of several pools overlap,
     * and those end after a minute idle.
     */
    private static final ThreadPoolExecutor FLUSHERS = new ThreadPoolExecutor(2, Integer.MAX_VALUE, 60,
            TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "thinfs-flush");
                t.setDaemon(true);
                return t;
            });

    private final List<Future<?>> running = new ArrayList<>(2);

    private CommitFlushes() {
    }

    /** Starts each of {@code flushes} (null ones skipped) on a helper thread. */
    static CommitFlushes start(Runnable... flushes) {
        CommitFlushes f = new CommitFlushes();
        for (Runnable r : flushes) {
            if (r != null) {
                f.running.add(FLUSHERS.submit(r));
            }
        }
        return f;
    }

    /**
     * Waits for every flush to end, and then throws the first one's failure, unchanged (a RuntimeException such as
     * StorageIOException, or an Error). Waits through interrupts (a commit does not stop half way) and keeps the
     * interrupt for the caller.
     */
    void await() {
        Throwable failure = null;
        boolean interrupted = false;
        for (Future<?> f : running) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (failure == null) {
                        failure = e.getCause();
                    }
                    break;
                }
            }
        }
        running.clear();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }
}
