package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;

import java.nio.file.Path;
import java.util.Collection;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * The kernel's side of FUSE's writeback cache. With it on, a write(2) returns once its bytes are in the kernel's
 * page cache; the daemon sees them later, coalesced into large WRITE requests. So every operation that promises
 * to include the writes that returned before it (a snapshot, a clone, SEEK_DATA) first makes the kernel send the
 * dirty pages of every volume open for writing and waits until the daemon has answered them. (Only a file open
 * for writing can hold dirty pages: closing a FUSE file writes its pages back and waits.)
 *
 * <p>How, and why not simpler: {@code syncfs(2)} starts the writeback but does not wait for FUSE's (the kernel
 * skips FUSE mappings when sync waits, so an unresponsive daemon cannot hang sync), and {@code fsync(2)} takes the
 * file's inode lock, which the kernel holds during a {@code link} of that file: the daemon would wait for itself.
 * {@code sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)} takes no inode lock and waits for the writeback of
 * every page, which FUSE ends when the daemon has answered the page's WRITE (since the kernel dropped its
 * temporary writeback pages; {@link #supportedBy} refuses older kernels). The descriptor opened for it is closed
 * later on another thread: closing a FUSE file takes the inode lock too.
 *
 * <p>Called from a request thread while the kernel waits for that request's answer, so the WRITEs it causes are
 * served by other request threads: at most half of them flush at a time.
 */
public final class KernelWriteback {
    /** libc calls a flush makes. */
    public interface Libc {
        int open(String path, int flags);

        int sync_file_range(int fd, long offset, long nbytes, int flags);

        int close(int fd);
    }

    /** The first kernel this was verified on (WritebackCacheIT); older ones may end writeback before the reply. */
    public static final int[] FIRST_VERIFIED_KERNEL = {6, 18};
    private static final int O_RDONLY = 0;
    private static final int WAIT_BEFORE_WRITE_WAIT_AFTER = 1 | 2 | 4;
    private static final Libc C = LibraryLoader.create(Libc.class).failImmediately().load("c");

    private final Path mountPoint;
    private final Semaphore flushers;
    private final ExecutorService closer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "thinfs-writeback-close");
        t.setDaemon(true);
        return t;
    });

    KernelWriteback(Path mountPoint, int requestThreads) {
        this.mountPoint = mountPoint.toAbsolutePath();
        this.flushers = new Semaphore(Math.max(1, requestThreads / 2));
    }

    /** Whether the running kernel ({@code os.version}) is one the writeback cache keeps its guarantees on. */
    public static boolean supportedBy(String osVersion) {
        String[] p = osVersion.split("[^0-9]+");
        try {
            int major = Integer.parseInt(p[0]);
            int minor = p.length > 1 ? Integer.parseInt(p[1]) : 0;
            return major > FIRST_VERIFIED_KERNEL[0] || major == FIRST_VERIFIED_KERNEL[0] && minor >= FIRST_VERIFIED_KERNEL[1];
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Makes the kernel write back the dirty pages of each file ({@code names}, relative to the mount point) and
     * waits until the daemon has answered every one of those WRITEs; throws if that cannot be done.
     */
    void flush(Collection<String> names) {
        if (names.isEmpty()) {
            return;
        }
        flushers.acquireUninterruptibly();
        try {
            for (String name : names) {
                String path = mountPoint.resolve(name).toString();
                int fd = C.open(path, O_RDONLY);
                if (fd < 0) {
                    continue; // gone since: its pages went with it
                }
                int rc = C.sync_file_range(fd, 0, 0, WAIT_BEFORE_WRITE_WAIT_AFTER);
                closer.execute(() -> C.close(fd));
                if (rc != 0) {
                    throw new IllegalStateException("the kernel could not write back the cached writes of " + path);
                }
            }
        } finally {
            flushers.release();
        }
    }
}
