package org.thinfs.fs.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The background work of a running pool, whatever its front end (a mount, {@code thinfs serve}): a commit every
 * interval, which bounds what a crash can lose, plus any other periodic task a front end adds (the mount's
 * write-behind). Closing waits for a task in flight instead of interrupting it: an interrupted FileChannel
 * operation closes the channel, and with it the pool.
 */
public final class PeriodicCommit implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeriodicCommit.class);

    private final ScheduledExecutorService executor = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "thinfs-commit");
        t.setDaemon(true);
        return t;
    });

    private PeriodicCommit() {
    }

    /** Commits {@code fs} every {@code interval} from now on; a failed commit is logged and the next one tried. */
    public static PeriodicCommit start(PoolFileSystem fs, Duration interval) {
        PeriodicCommit p = new PeriodicCommit();
        long ms = interval.toMillis();
        p.executor.scheduleWithFixedDelay(() -> {
            try {
                fs.commit();
            } catch (IOException | RuntimeException e) {
                LOG.error("periodic commit failed: {}", e.getMessage());
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
        return p;
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
