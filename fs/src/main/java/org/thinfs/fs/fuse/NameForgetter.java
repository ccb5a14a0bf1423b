package org.thinfs.fs.fuse;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Makes the kernel forget names the pool no longer has, on a thread of its own. A volume or snapshot deleted or
 * renamed through the control socket, the CLI or a schedule otherwise stays visible in the mount for the kernel's
 * entry timeout (a second), because the kernel answers {@code stat} and path lookups from its cached entries.
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
    /** Drops the kernel's entry of a name in a directory, by the directory's node id. */
    interface Invalidate {
        void entry(long parent, String name);
    }

    private final Invalidate invalidate;
    private final DirectoryNodes dirs;

    NameForgetter(Invalidate invalidate, DirectoryNodes dirs) {
        this.invalidate = invalidate;
        this.dirs = dirs;
    }

    /**
     * Queues the name {@code name} of directory {@code dir} ("/", "/snapshots", "/snapshots/SET"); returns at once.
     * A directory the kernel never looked in has no entries cached, so nothing is to be dropped there.
     */
    void forget(String dir, String name) {
        try {
            thread.execute(() -> {
                long parent = dirs.nodeOf(dir);
                if (parent > 0) {
                    invalidate.entry(parent, name);
                }
                dirs.forget(dir.equals("/") ? "/" + name : dir + "/" + name);
            });
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
