package org.thinfs.fs.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.core.pool.ZeroWrites;
import org.thinfs.fs.control.PoolDaemon;
import org.thinfs.fs.fuse.FuseTransport;
import org.thinfs.fs.fuse.Mounter;
import org.thinfs.fs.model.PoolFileSystem;
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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "mount", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Mount a pool with FUSE.",
        description = {"Mount a pool. Runs in the background unless --foreground; unmount with 'thinfs umount', "
                + "'fusermount -u' or SIGTERM: each commits and closes the pool.",
                "A pool made by the kernel or LVM: thinfs mount --metadata FILE --data FILE --block-size N MOUNTPOINT"})
final class MountCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(MountCommand.class);

    @Parameters(arity = "1..2", paramLabel = "[POOL] MOUNTPOINT",
            description = "Pool directory and mount point (only the mount point with --metadata/--data).")
    List<Path> paths;

    @Option(names = "-o", split = ",", paramLabel = "OPTIONS",
            description = "Mount options, as mount(8) and fstab pass them: FUSE's (allow_other, off by default; ro; "
                    + "default_permissions...), thinfs's settings as NAME=VALUE or x-thinfs.NAME=VALUE "
                    + "(commit-interval, metadata-cache, fuse-threads, max-request; they override the flags), and "
                    + "mount(8)'s own (defaults, noauto, _netdev, x-systemd.*), which are ignored. Anything else is "
                    + "refused.")
    List<String> options = new ArrayList<>();

    @Option(names = "--foreground", description = "Stay in the foreground (logs to stderr).")
    boolean foreground;

    @Option(names = "--commit-interval", defaultValue = "1s", converter = Durations.class,
            description = "How long a change waits for its commit at most (default: ${DEFAULT-VALUE}), timed "
                    + "from the first change since the last commit; fsync commits at once.")
    Duration commitInterval;

    @Option(names = "--metadata-cache", defaultValue = "64M", converter = Sizes.class,
            description = "Metadata blocks kept in memory (default: ${DEFAULT-VALUE}). The daemon's heap is sized "
                    + "from it and the pool's size unless THINFS_JAVA_OPTS is set.")
    long metadataCache;

    @Option(names = "--fuse-threads", defaultValue = "16",
            description = "Threads serving FUSE requests, made once per mount (default: ${DEFAULT-VALUE}).")
    int fuseThreads;

    @Option(names = "--max-request", defaultValue = "1M", converter = Sizes.class,
            description = "Largest read or write the kernel sends in one FUSE request, 128K to 1M (default: "
                    + "${DEFAULT-VALUE}; above 128K needs Linux 4.20 or later, older kernels keep 128K).")
    long maxRequest;

    @Option(names = "--zeroes", defaultValue = "skip", paramLabel = "keep|skip|unmap",
            description = "What a write of zeros does: skip (default) writes nothing where the volume maps no block "
                    + "(it reads zeros already), so dd from /dev/zero provisions nothing; unmap also unmaps whole "
                    + "blocks of zeros written over mapped ones; keep writes zeros as data.")
    String zeroes;

    @Option(names = "--copies", defaultValue = "share", paramLabel = "share|write",
            description = "What a copy by an ordinary tool (cp, dd, rsync, qemu-img convert) from one volume to "
                    + "another does: share (default) maps each whole block that repeats a block just read to that "
                    + "block (verified byte for byte), as copy_file_range does; write writes every byte.")
    String copies;

    @Option(names = "--direct", description = "Read and write the data device with O_DIRECT, past the host's page "
            + "cache (pools on block devices; -o direct).")
    boolean direct;

    @Option(names = "--metadata", description = "Metadata file of a foreign pool (kernel or LVM).")
    Path metadata;

    @Option(names = "--data", description = "Data file of a foreign pool.")
    Path data;

    @Option(names = "--block-size", converter = Sizes.class,
            description = "Data block size of a foreign pool, in bytes or in 512-byte sectors as dmsetup gives it "
                    + "(128 = 64 KiB); read from the superblock when not given, refused when it does not match.")
    Long blockSize;

    @Option(names = "--metrics", paramLabel = "[HOST:]PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (127.0.0.1 unless a host is given).")
    String metrics;

    @picocli.CommandLine.Mixin
    NbdOptions nbdOptions = new NbdOptions();

    @Option(names = "--nbd", paramLabel = "ADDRESS",
            description = "Also serve the volumes over NBD: unix:PATH (mode 0600) or [HOST:]PORT (127.0.0.1 unless a "
                    + "host is given). May be given more than once. Exports: VOLUME, snapshots/SET/VOLUME (read-only).")
    List<String> nbd = new ArrayList<>();

    /**
     * A mount point left by a daemon that died (kill -9, OOM): when it is this pool's and no daemon of the pool runs,
     * it is cleared (a lazy unmount, as fusermount -u -z) and the mount goes on; anything else is named, with the
     * command that clears it.
     */
    private static void clearDeadMount(PoolDir pool, Path mnt) {
        String source = MountTable.source(mnt).orElse("an unknown source");
        if (pool == null || !source.equals("thinfs:" + pool.dir()) || LivePool.daemonRuns(pool)) {
            throw new Main.UsageError(mnt + " is a dead FUSE mount of " + source + " (its daemon is gone): clear it "
                    + "with 'fusermount -u -z " + mnt + "' and mount again");
        }
        DeadMounts.clear(mnt);
        System.err.println("thinfs: cleared the dead mount of " + pool.dir() + " on " + mnt
                + " (its daemon had stopped)");
    }

    /** --zeroes as the engine takes it; a bad value is one sentence. */
    static ZeroWrites zeroWrites(String value) {
        try {
            return ZeroWrites.of(value);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /** --copies as the engine takes it; a bad value is one sentence. */
    static boolean copySharing(String value) {
        return switch (value) {
            case "share" -> true;
            case "write" -> false;
            default -> throw new Main.UsageError("copies is share or write, not '" + value + "'");
        };
    }

    /** The -o list sorted (MountOptions), once per call. */
    private MountOptions parsedOptions;

    @Override
    public Integer call() throws Exception {
        parsedOptions = MountOptions.parse(options);
        applySettings();
        boolean foreign = metadata != null || data != null;
        if (foreign && (metadata == null || data == null || paths.size() != 1)) {
            throw new Main.UsageError("a foreign pool needs --metadata FILE --data FILE and one MOUNTPOINT");
        }
        if (!foreign && paths.size() != 2) {
            throw new Main.UsageError("usage: thinfs mount POOL MOUNTPOINT");
        }
        Path mnt = paths.get(paths.size() - 1).toAbsolutePath().normalize();
        if (DeadMounts.isDead(mnt)) {
            clearDeadMount(foreign ? null : Pools.requirePool(paths.get(0).toAbsolutePath().normalize()), mnt);
        }
        if (!Files.exists(mnt, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new Main.UsageError("mount point " + mnt + " does not exist: create it first (mkdir " + mnt + ")");
        }
        if (!Files.isDirectory(mnt)) {
            throw new Main.UsageError("mount point " + mnt + " is not a directory");
        }
        if (MountTable.isMounted(mnt)) {
            throw new Main.UsageError(mnt + " is already a mount point");
        }
        transport(); // a bad --fuse-threads or --max-request is refused before the daemon starts
        ZeroWrites zeroWrites = zeroWrites(zeroes);
        boolean copySharing = copySharing(copies);
        PoolDir pool = foreign ? null : Pools.requirePool(paths.get(0).toAbsolutePath().normalize());
        if (foreign && blockSize != null) {
            blockSize = checkedBlockSize(blockSize, Pools.superblockBlockSize(metadata));
        }
        for (String a : nbd) {
            try {
                org.thinfs.fs.nbd.NbdServer.parse(a);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageError(e.getMessage());
            }
        }
        org.thinfs.fs.nbd.NbdConfig nbdConfig = nbdOptions.config(nbd, fuseOptions().contains("ro"));
        MountPreflight.check(mnt, fuseOptions());
        if (!foreground) {
            return daemonize(pool, mnt);
        }
        List<String> fuseOptions = fuseOptions();
        boolean readOnly = fuseOptions.contains("ro");
        if (foreign) {
            return runForeign(mnt, fuseOptions, readOnly);
        }
        try (FileChannel lockFile = FileChannel.open(pool.lock(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                throw new Main.UsageError("pool " + pool.dir() + " is already mounted by another thinfs process");
            }
            PoolFileSystem fs = Pools.openFileSystem(pool, readOnly, metadataCache, direct);
            fs.pool().setZeroWrites(zeroWrites);
            fs.pool().setCopySharing(copySharing);
            Path pid = pool.dir().resolve("thinfs.pid");
            Files.writeString(pid, ProcessHandle.current().pid() + "\n");
            // The control socket, autoextend and events start before the mount appears and stop after it is gone
            // and the pool committed (Mounter.run closes the file system); a socket that cannot be made stops the
            // mount, since every live command depends on it.
            PoolDaemon daemon;
            try {
                daemon = PoolDaemon.start(pool.dir(), fs, pool.data());
            } catch (IOException e) {
                fs.close();
                Files.deleteIfExists(pid);
                throw e;
            }
            try {
                daemon.serveNbd(fs, nbd, nbdConfig);
                if (metrics != null) {
                    daemon.serveMetrics(metrics);
                }
            } catch (IOException | IllegalArgumentException e) {
                daemon.close();
                fs.close();
                Files.deleteIfExists(pid);
                throw e;
            }
            daemon.servedBy("fuse " + mnt);
            try {
                Mounter.run(fs, mnt, "thinfs:" + pool.dir(), fuseOptions, commitInterval, transport(), Ids.uid(),
                        Ids.gid(), daemon::close, pool.data(), daemon.metrics().fuse());
            } finally {
                daemon.close();
                Files.deleteIfExists(pid);
            }
        }
        return 0;
    }

    private int runForeign(Path mnt, List<String> fuseOptions, boolean readOnly) throws IOException {
        // (a given --block-size was checked against the superblock in call(), before the daemon started)
        ThinPool tp = Pools.open(metadata, data, readOnly, metadata.toString(), metadataCache, false, direct);
        PoolFileSystem fs = PoolFileSystem.open(tp, null);
        tp.setZeroWrites(zeroWrites(zeroes));
        tp.setCopySharing(copySharing(copies));
        Mounter.run(fs, mnt, "thinfs:" + metadata.toAbsolutePath(), fuseOptions, commitInterval, transport(), Ids.uid(),
                Ids.gid(), () -> { }, data);
        return 0;
    }

    /**
     * A given --block-size against the superblock's, in bytes. dmsetup tables and lvs give it in 512-byte sectors
     * (128 for 64 KiB), so that spelling is taken too.
     */
    private static long checkedBlockSize(long given, long actual) {
        if (given == actual || given * 512 == actual) {
            return actual;
        }
        throw new Main.UsageError("--block-size " + given + " does not match the superblock's " + actual + " bytes ("
                + actual / 512 + " sectors); leave it out to take the superblock's");
    }

    private FuseTransport transport() {
        try {
            return new FuseTransport(fuseThreads, (int) Math.min(Integer.MAX_VALUE, maxRequest));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    private List<String> fuseOptions() {
        return parsedOptions.fuseOptions();
    }

    /** thinfs settings given with -o (an fstab line's) take the place of the flags' values. */
    private void applySettings() {
        for (var e : parsedOptions.settings().entrySet()) {
            String v = e.getValue();
            try {
                switch (e.getKey()) {
                    case "commit-interval" -> commitInterval = new Durations().convert(v);
                    case "metadata-cache" -> metadataCache = Sizes.parse(v);
                    case "fuse-threads" -> fuseThreads = Integer.parseInt(v);
                    case "max-request" -> maxRequest = Sizes.parse(v);
                    case "zeroes" -> zeroes = v;
                    case "copies" -> copies = v;
                    case "direct" -> direct = MountOptions.onOff(e.getKey(), v);
                    default -> throw new IllegalStateException("setting " + e.getKey() + " has no flag");
                }
            } catch (NumberFormatException bad) {
                throw new Main.UsageError("mount option " + e.getKey() + "=" + v + ": '" + v + "' is not a number");
            } catch (picocli.CommandLine.TypeConversionException | IllegalArgumentException bad) {
                throw new Main.UsageError("mount option " + e.getKey() + "=" + v + ": " + bad.getMessage());
            }
        }
    }

    /** Re-runs this command with --foreground in a new session, logging to a file; returns once mounted. */
    private int daemonize(PoolDir pool, Path mnt) throws Exception {
        Path log = pool != null ? pool.log() : Path.of(metadata.toAbsolutePath() + ".thinfs.log");
        Path meta = pool != null ? pool.metadata() : metadata;
        Path dataFile = pool != null ? pool.data() : data;
        Daemonizer d = Daemonizer.start("mount", Arrays.asList(rebuildArgs(pool, mnt)), log,
                Pools.daemonHeapBytes(meta, dataFile, metadataCache), true);
        d.awaitReady(() -> MountTable.isMounted(mnt), "the mount did not appear");
        System.out.println("mounted " + (pool != null ? pool.dir() : metadata) + " on " + mnt + " (pid " + d.pid()
                + ", log " + log + ")");
        return 0;
    }

    private String[] rebuildArgs(PoolDir pool, Path mnt) {
        List<String> a = new ArrayList<>();
        if (pool != null) {
            a.add(pool.dir().toString());
        } else {
            a.addAll(List.of("--metadata", metadata.toAbsolutePath().toString(), "--data",
                    data.toAbsolutePath().toString()));
            if (blockSize != null) {
                a.addAll(List.of("--block-size", Long.toString(blockSize)));
            }
        }
        a.add(mnt.toString());
        a.add("--commit-interval");
        a.add(commitInterval.toMillis() + "ms");
        a.add("--metadata-cache");
        a.add(Long.toString(metadataCache));
        a.add("--fuse-threads");
        a.add(Integer.toString(fuseThreads));
        a.add("--max-request");
        a.add(Long.toString(maxRequest));
        a.add("--zeroes");
        a.add(zeroes);
        a.add("--copies");
        a.add(copies);
        if (direct) {
            a.add("--direct");
        }
        if (metrics != null) {
            a.add("--metrics");
            a.add(metrics);
        }
        a.addAll(nbdOptions.args());
        for (String n : nbd) {
            a.add("--nbd");
            a.add(n.startsWith("unix:") ? "unix:" + Path.of(n.substring(5)).toAbsolutePath() : n);
        }
        List<String> fuse = fuseOptions();
        if (!fuse.isEmpty()) {
            a.add("-o");
            a.add(String.join(",", fuse));
        }
        return a.toArray(new String[0]);
    }
}
