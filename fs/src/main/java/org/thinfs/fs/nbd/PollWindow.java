package org.thinfs.fs.nbd;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How long one connection's reader polls its quiet socket before it sleeps, adapted as qemu adapts its event loop's
 * polling (aio-poll-max-ns): the window doubles while the waits that follow it are short enough that a poll would
 * have caught the next request, and halves after each wait longer than {@link #MAX_NS}.
 *
 * <p>Why poll at all: a thread asleep in {@code read} is woken by the client's next request through the scheduler,
 * and on a virtual machine the idle CPU's exit alone costs tens of microseconds. At queue depth 1 that is a large
 * part of each request (4 KiB writes: 47 µs per request sleeping, 32 µs polling; nbdkit, which sleeps, 43 µs), while
 * polling costs only the CPU the window spends. So the window stays 0 for a client that pauses between requests,
 * and at most {@link #SPINNERS} readers in the whole server poll at once (half the CPUs, at least one), so polling
 * never takes the CPUs that requests are being handled on.
 */
final class PollWindow {
    /** The longest window: qemu's default is 32 µs; a request answered in the page cache turns around in ~30. */
    static final long MAX_NS = Long.getLong("thinfs.nbd.pollMaxNs", 50_000);
    private static final long MIN_NS = 4_000;
    private static final Semaphore SPINNERS =
            new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));

    /**
     * Requests in hand now in this process (every NBD server of it, as {@link #SPINNERS}): from the reading of a
     * request's header until its reply is out.
     */
    private static final AtomicInteger HANDLING = new AtomicInteger();

    /** Nanoseconds the next quiet read polls; touched only by the thread that holds the connection's reading turn. */
    private long windowNs;

    long windowNs() {
        return windowNs;
    }

    /** Whether this reader may poll now (a poller's permit, to give back with {@link #stopPolling}). */
    boolean startPolling() {
        return windowNs > 0 && SPINNERS.tryAcquire();
    }

    /**
     * A poller's permit for a wait whose end is known to be near (the rest of a payload the client is sending),
     * whatever the window: only while the process has at most one request in hand ({@link #HANDLING}). Many
     * requests in flight need the CPUs for their handlers: with only the connection's own count looked at, nbdcopy
     * in (2 connections on a 2-CPU machine, 64 requests each) took 0.39 s per GiB instead of 0.35.
     */
    boolean startPollingNearEnd() {
        return HANDLING.get() <= 1 && SPINNERS.tryAcquire();
    }

    /** Whether more than one request is in hand now (a near-end poll stops then). */
    static boolean busy() {
        return HANDLING.get() > 1;
    }

    static void handlingStarted() {
        HANDLING.incrementAndGet();
    }

    static void handlingEnded() {
        HANDLING.decrementAndGet();
    }

    void stopPolling() {
        SPINNERS.release();
    }

    /** The reader slept {@code waitedNs} (counted from when the socket was found quiet) before bytes came. */
    void slept(long waitedNs) {
        if (waitedNs > MAX_NS) {
            windowNs /= 2;
            if (windowNs < MIN_NS) {
                windowNs = 0;
            }
        } else if (waitedNs > windowNs) {
            windowNs = Math.min(MAX_NS, Math.max(MIN_NS, windowNs * 2));
        }
    }
}
