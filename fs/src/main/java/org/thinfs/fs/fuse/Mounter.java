package org.thinfs.fs.fuse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.fs.model.PeriodicCommit;
import org.thinfs.fs.model.PoolFileSystem;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a mounted pool until it is unmounted ({@code fusermount -u}, {@code umount}) or the process gets SIGTERM or
 * SIGINT; either way the pool is committed and closed. A periodic commit bounds what a crash can lose.
 */
public final class Mounter {
    private static final Logger LOG = LoggerFactory.getLogger(Mounter.class);
    /**
     * Safe defaults: no allow_other; the kernel enforces permissions; large requests are not split. max_write is
     * libfuse2's own figure (what a kernel without FUSE_MAX_PAGES is told); {@link InitReply} raises it when the
     * kernel allows; max_read is the kernel's cap on read requests. No hard_remove: libfuse2 then keeps a path for a
     * volume removed while open (.fuse_hidden*, which the model hides and frees at the last close), and fstat of
     * it works; with hard_remove the kernel's GETATTR comes without a file handle and libfuse answers ENOENT.
     * entry_timeout=0: the kernel asks again for a name at every path lookup instead of trusting it for a second,
     * because names also change outside the mount (the control socket, the CLI, schedules): a script that deletes a
     * volume with {@code thinfs volume delete} and then tests for it must not find it. A lookup costs one request,
     * and this mount's paths are few and looked up rarely (volumes are opened once and used through their
     * descriptors). Telling the kernel to forget each name instead (FUSE_NOTIFY_INVAL_ENTRY) was tried: the call
     * waits for the directory's lock, and a daemon killed while one waited for a request of its own could not exit.
     */
    public static final String DEFAULT_OPTIONS =
            "default_permissions,big_writes,max_write=131072,max_read=1048576,entry_timeout=0";

    private Mounter() {
    }

    public static List<String> fuseArguments(String fsName, List<String> userOptions) {
        List<String> args = new ArrayList<>();
        args.add("-o");
        args.add("fsname=" + fsName.replace(",", "_") + ",subtype=thinfs," + DEFAULT_OPTIONS);
        for (String o : userOptions) {
            args.add("-o");
            args.add(o);
        }
        return args;
    }

    /**
     * Mounts and blocks until unmounted; returns normally after the pool is committed and closed. {@code beforeClose}
     * runs once the mount is gone, before the last commit (the caller's other front ends stop there); {@code
     * dataFile} is the pool's data file, for the write-behind ({@link WriteBehind}).
     */
    public static void run(PoolFileSystem fs, Path mountPoint, String fsName, List<String> userOptions,
                           Duration commitInterval, FuseTransport transport, long uid, long gid,
                           Runnable beforeClose, Path dataFile)
            throws IOException {
        run(fs, mountPoint, fsName, userOptions, commitInterval, transport, uid, gid, beforeClose, dataFile,
                org.thinfs.fs.metrics.RequestStats.NONE);
    }

    /** As above, counting every request in {@code stats} (the daemon's metrics). */
    public static void run(PoolFileSystem fs, Path mountPoint, String fsName, List<String> userOptions,
                           Duration commitInterval, FuseTransport transport, long uid, long gid,
                           Runnable beforeClose, Path dataFile, org.thinfs.fs.metrics.RequestStats stats)
            throws IOException {
        ThinFuse fuse = new ThinFuse(fs, uid, gid);
        fuse.setRequestStats(stats);
        fuse.spliceWritesInto(dataFile);
        PeriodicCommit committer = PeriodicCommit.start(fs, commitInterval);
        // Write-behind: namespace changes commit before they return, and a commit must first flush the data its
        // mappings point at. Starting the data file's writeback every few milliseconds while data is written keeps
        // what a commit finds dirty small, so mkdir under a saturating writer waits for milliseconds of data, not a
        // commit interval's. An idle pool's write-behind sleeps until the next write.
        WriteBehind writeBehind = WriteBehind.startFor(fs, dataFile, committer);
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            LOG.info("signal received: unmounting {}", mountPoint);
            fuse.umount();
            try {
                closed.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "thinfs-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Warmup.run(fs.pool());
            LOG.info("mounting {} on {}", fsName, mountPoint);
            fuse.serve(mountPoint, fuseArguments(fsName, userOptions), transport.threads(), transport.maxRequest());
        } finally {
            committer.close(); // waits for a commit in flight, never interrupts it
            writeBehind.close();
            try {
                beforeClose.run();
                fs.close();
                LOG.info("unmounted {}; pool committed and closed", mountPoint);
            } finally {
                closed.countDown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook itself is running
            }
        }
    }
}
