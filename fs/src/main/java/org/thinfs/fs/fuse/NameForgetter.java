package org.thinfs.fs.fuse;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Makes the kernel forget volume names the pool no longer has, on a thread of its own. A volume deleted or renamed
 * through the control socket or the CLI otherwise stays visible in the mount for the kernel's entry timeout (a
 * second), because the kernel answers {@code stat} and path lookups from its cached entries.
 *
 * <p>Why a thread: the kernel's invalidation takes the directory's lock, and a FUSE request in flight may hold that
 * lock while it waits for the namespace (an {@code rm} in the mount while {@code thinfs volume delete} runs), so the
 * invalidation must never be called by a thread holding the namespace, nor by a request of the same directory. This
 * thread holds nothing of the pool; it waits for the directory, and the request ends meanwhile.
 */
final class NameForgetter implements AutoCloseable {
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "thinfs-forget-names");
        t.setDaemon(true);
        return t;
    });
    private final Consumer<String> invalidate;

    /** {@code invalidate}: drops the kernel's entry of a name in the mount's top directory. */
    NameForgetter(Consumer<String> invalidate) {
        this.invalidate = invalidate;
    }

    /** Queues the top-directory name {@code name}; returns at once. */
    void forget(String name) {
        try {
            thread.execute(() -> invalidate.accept(name));
        } catch (RejectedExecutionException closing) {
            // unmounting: the kernel's cache goes with the mount
        }
    }

    /**
     * Waits (up to two seconds) until every name queued so far is forgotten, so a caller that changed names and
     * then reads the mount (a script after {@code thinfs volume delete}) sees the change. Never call it while
     * holding the namespace.
     */
    void settle() {
        try {
            thread.submit(() -> { }).get(2, TimeUnit.SECONDS);
        } catch (RejectedExecutionException | java.util.concurrent.ExecutionException
                 | java.util.concurrent.TimeoutException e) {
            // closing, or a directory held for long: the kernel's entry timeout still bounds what it shows
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Finishes what is queued (up to a few seconds), then stops. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
