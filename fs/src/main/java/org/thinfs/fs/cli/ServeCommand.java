package org.thinfs.fs.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.fs.control.ControlClient;
import org.thinfs.fs.control.PoolDaemon;
import org.thinfs.fs.model.PeriodicCommit;
import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.nbd.NbdServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "serve", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Serve a pool's volumes over NBD, without FUSE.",
        description = "For hosts or containers without /dev/fuse: the same daemon as mount (control socket, "
                + "autoextend, events) with NBD as its only front end. Runs in the background unless --foreground; "
                + "stop it with 'thinfs umount POOL' or SIGTERM, which commit and close the pool.")
final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Option(names = "--metrics", paramLabel = "[HOST:]PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (127.0.0.1 unless a host is given).")
    String metrics;

    @Option(names = "--nbd", required = true, paramLabel = "ADDRESS",
            description = "unix:PATH (mode 0600) or [HOST:]PORT (127.0.0.1 unless a host is given); may be given "
                    + "more than once.")
    List<String> nbd = new ArrayList<>();

    @Option(names = "--foreground", description = "Stay in the foreground (logs to stderr).")
    boolean foreground;

    @Option(names = "--zeroes", defaultValue = "skip", paramLabel = "keep|skip|unmap",
            description = "What a write of zeros does (as thinfs mount --zeroes): skip (default), unmap or keep.")
    String zeroes;

    @Option(names = "--copies", defaultValue = "share", paramLabel = "share|write",
            description = "What copies between volumes by ordinary tools do (as thinfs mount --copies): share "
                    + "(default) or write.")
    String copies;

    @picocli.CommandLine.Mixin
    NbdOptions nbdOptions = new NbdOptions();

    @Option(names = "--read-only", description = "Serve every export read-only (writes get EPERM).")
    boolean readOnly;

    @Option(names = "--commit-interval", defaultValue = "1s", converter = Durations.class,
            description = "How long a change waits for its commit at most (default: ${DEFAULT-VALUE}), timed "
                    + "from the first change since the last commit; NBD flush commits at once.")
    Duration commitInterval;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir.toAbsolutePath().normalize());
        MountCommand.zeroWrites(zeroes);                // a bad value is refused before the daemon starts
        MountCommand.copySharing(copies);
        for (String a : nbd) {
            try {
                NbdServer.parse(a);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageError(e.getMessage());
            }
        }
        org.thinfs.fs.nbd.NbdConfig nbdConfig = nbdOptions.config(nbd, readOnly); // refused before any daemon
        if (!foreground) {
            return daemonize(pool);
        }
        try (FileChannel lockFile = FileChannel.open(pool.lock(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                throw new Main.UsageError("pool " + pool.dir() + " is already in use by another thinfs process");
            }
            serve(pool, nbdConfig);
        }
        return 0;
    }

    private void serve(PoolDir pool, org.thinfs.fs.nbd.NbdConfig nbdConfig) throws IOException {
        org.thinfs.core.pool.ZeroWrites zeroWrites = MountCommand.zeroWrites(zeroes);
        PoolFileSystem fs = Pools.openFileSystem(pool, false, Pools.DEFAULT_CACHE_BYTES);
        fs.pool().setZeroWrites(zeroWrites);
        fs.pool().setCopySharing(MountCommand.copySharing(copies));
        org.thinfs.fs.fuse.Warmup.run(fs.pool());
        Path pid = pool.dir().resolve("thinfs.pid");
        Files.writeString(pid, ProcessHandle.current().pid() + "\n");
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            LOG.info("signal received: stopping the NBD server of {}", pool.dir());
            stop.countDown();
            try {
                closed.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "thinfs-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        PoolDaemon daemon = null;
        PeriodicCommit committer = null;
        try {
            daemon = PoolDaemon.start(pool.dir(), fs, pool.data());
            daemon.serveNbd(fs, nbd, nbdConfig);
            if (metrics != null) {
                daemon.serveMetrics(metrics);
            }
            committer = PeriodicCommit.start(fs, commitInterval);
            System.err.println("thinfs serve: serving " + pool.dir() + " on " + String.join(", ", nbd));
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (committer != null) {
                committer.close(); // waits for a commit in flight, never interrupts it
            }
            if (daemon != null) {
                daemon.close();
            }
            try {
                fs.close();
                LOG.info("stopped; pool {} committed and closed", pool.dir());
            } finally {
                Files.deleteIfExists(pid);
                closed.countDown();
            }
        }
    }

    /** Re-runs this command with --foreground in a new session; returns once its control socket answers. */
    private int daemonize(PoolDir pool) throws Exception {
        List<String> args = new ArrayList<>(List.of(pool.dir().toString(), "--commit-interval",
                commitInterval.toMillis() + "ms", "--zeroes", zeroes, "--copies", copies));
        if (metrics != null) {
            args.add("--metrics");
            args.add(metrics);
        }
        args.addAll(nbdOptions.args());
        if (readOnly) {
            args.add("--read-only");
        }
        for (String a : nbd) {
            args.add("--nbd");
            args.add(a.startsWith("unix:") ? "unix:" + Path.of(a.substring(5)).toAbsolutePath() : a);
        }
        Daemonizer d = Daemonizer.start("serve", args, pool.log(), Pools.daemonHeapBytes(pool.metadata(),
                pool.data(), Pools.DEFAULT_CACHE_BYTES), false);
        d.awaitReady(() -> Files.isRegularFile(pool.dir().resolve("thinfs.pid")) && controlAnswers(pool)
                && nbdListening(), "the NBD server did not start");
        System.out.println("serving " + pool.dir() + " over NBD on " + String.join(", ", nbd) + " (pid " + d.pid()
                + ", log " + pool.log() + ")");
        return 0;
    }

    private static boolean controlAnswers(PoolDir pool) {
        try (ControlClient c = ControlClient.connect(pool.dir())) {
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    /** Whether every unix: address exists (TCP ones are bound before the control socket's check passes). */
    private boolean nbdListening() {
        for (String a : nbd) {
            if (a.startsWith("unix:") && !Files.exists(Path.of(a.substring(5)).toAbsolutePath())) {
                return false;
            }
        }
        return true;
    }
}
