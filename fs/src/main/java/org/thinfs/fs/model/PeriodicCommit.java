package org.thinfs.fs.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The background work of a running pool, whatever its front end (a mount, {@code thinfs serve}): a commit an
 * interval after the first change that no commit holds yet, which bounds what a crash can lose, plus any other
 * periodic task a front end adds (the mount's write-behind). Closing waits for a task in flight instead of
 * interrupting it: an interrupted FileChannel operation closes the channel, and with it the pool.
 */
public final class PeriodicCommit implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeriodicCommit.class);

    private final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(2, r -> {
        Thread t = new Thread(r, "thinfs-commit");
        t.setDaemon(true);
        return t;
    });
    private final PoolFileSystem fs;
    private final long intervalNanos;

    private PeriodicCommit(PoolFileSystem fs, long intervalNanos) {
        this.fs = fs;
        this.intervalNanos = intervalNanos;
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);     // close ends the waiting at once
    }

    /**
     * Commits {@code fs} an {@code interval} after each first change since its last commit (CatalogCommit#nanosUntilDue
     * says why from the change, not on a fixed beat); a failed commit is logged and tried again an interval later.
     */
    public static PeriodicCommit start(PoolFileSystem fs, Duration interval) {
        PeriodicCommit p = new PeriodicCommit(fs, interval.toNanos());
        p.scheduleCheck(p.intervalNanos);
        return p;
    }

    /**
     * Commits if one is due and schedules the next check: when it falls due, or an interval from now when the pool
     * is clean (a change made meanwhile is due an interval after it was made, so no later than that check plus
     * the interval; the check then waits the rest). An idle pool costs one wake-up per interval. After a commit the
     * next waits a quarter interval at least: a commit that outlasted the interval (its flush behind a writer faster
     * than the disk) leaves the writers that much time before the next flush, instead of flushing back to back; after
     * a failed one (a read-only pool fails every time), a whole interval.
     */
    private void check() {
        long floor = intervalNanos;     // unless the commit below succeeds or is not due
        try {
            if (fs.nanosUntilCommitDue(intervalNanos) <= 0) {
                fs.commit();
                floor = intervalNanos / 4;
            } else {
                floor = TimeUnit.MILLISECONDS.toNanos(1);
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("periodic commit failed: {}", e.getMessage());
        } finally {
            // Even an Error out of the commit (which the executor would swallow) leaves the next check scheduled.
            long wait = fs.nanosUntilCommitDue(intervalNanos);
            scheduleCheck(Math.max(Math.min(wait, intervalNanos), floor));
        }
    }

    private void scheduleCheck(long delayNanos) {
        try {
            executor.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            // closing: no more commits from here (close's caller commits what is left)
        }
    }

    /** Runs {@code task} every {@code periodMs} as well; its failures are logged at debug (it is best effort). */
    public void alsoEvery(long periodMs, String what, Runnable task) {
        executor.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.debug("{} failed: {}", what, e.getMessage());
            }
        }, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    /** Stops scheduling and waits (up to a minute) for a task in flight. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            executor.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
