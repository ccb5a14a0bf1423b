package org.thinfs.fs.cli;

import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.rbd.RbdTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code thinfs receive rbd:RBDPOOL/IMAGE POOL VOLUME}: send in reverse. Every snapshot of the image newer than the
 * newest one VOLUME has as a snapshot set is exported ({@code rbd export-diff --from-snap}), spooled in the pool
 * directory (a stream has no checksum: it is read whole before anything changes) and applied as import-diff
 * --snapshot applies it, in order; --head brings the image's current state last, with no snapshot. A volume
 * written since the common snapshot is refused, unless --force rolls it back first.
 */
@Command(name = "receive", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Bring an RBD image's snapshots into a volume as snapshot sets.",
        description = "Imports every snapshot of the image that VOLUME lacks, oldest first, each as a snapshot set "
                + "of VOLUME (created when missing); zeros and bytes the volume already holds are not written. "
                + "The pool must be unmounted.")
final class ReceiveCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "rbd:RBDPOOL/IMAGE")
    String source;
    @Parameters(index = "1", paramLabel = "POOL")
    Path dir;
    @Parameters(index = "2", paramLabel = "VOLUME")
    String volume;
    @Option(names = "--head", description = "Also bring the image's current state (after its last snapshot).")
    boolean head;
    @Option(names = "--force", description = "Roll VOLUME back to the common snapshot when it was written since.")
    boolean force;
    @Option(names = "--ceph-conf", paramLabel = "FILE", description = "The cluster's ceph.conf (passed to rbd).")
    String cephConf;
    @Option(names = "--id", paramLabel = "NAME", description = "The Ceph user, without 'client.' (passed to rbd).")
    String cephId;

    @Override
    public Integer call() throws Exception {
        String image;
        try {
            image = RbdTool.image(source);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        PoolDir pool = Pools.requirePool(dir);
        if (LivePool.daemonRuns(pool)) {
            throw new Main.UsageError("pool " + dir + " is mounted: unmount it first (receive changes its files)");
        }
        RbdTool rbd = new RbdTool(cephConf, cephId);
        List<String> remote = rbd.snapshots(image);
        int received = 0;
        Path spool = Files.createTempFile(pool.dir(), ".receive.", ".spool");
        try {
            String[] since = {null};
            LivePool.offline(pool, () -> {
                try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
                    List<String> sets = fs.list("/snapshots");
                    for (String r : remote) {
                        if (sets.contains(r) && fs.list("/snapshots/" + r).contains(volume)) {
                            since[0] = r;
                        }
                    }
                    if (since[0] != null && force) {
                        fs.rollback(since[0], List.of(volume), true, null);
                    }
                }
            });
            List<String> todo = since[0] == null ? remote : remote.subList(remote.indexOf(since[0]) + 1,
                    remote.size());
            String from = since[0];
            for (String snap : todo) {
                fetch(rbd, from, image + "@" + snap, spool);
                apply(pool, spool, true);
                System.err.println("thinfs receive: " + snap + (from == null ? " (full)" : " (since " + from + ")"));
                from = snap;
                received++;
            }
            if (head) {
                fetch(rbd, from, image, spool);
                apply(pool, spool, false);
                System.err.println("thinfs receive: the image's head");
            }
        } finally {
            Files.deleteIfExists(spool);
        }
        System.out.printf("%s: %d snapshot%s received into %s%s%n", image, received, received == 1 ? "" : "s", volume,
                head ? ", and the head" : "");
        return 0;
    }

    private static void fetch(RbdTool rbd, String from, String spec, Path spool) throws Exception {
        String[] args = from == null ? new String[] {"export-diff", "--no-progress", spec, "-"}
                : new String[] {"export-diff", "--no-progress", "--from-snap", from, spec, "-"};
        rbd.drainTo(in -> Files.copy(in, spool, StandardCopyOption.REPLACE_EXISTING), args);
    }

    private void apply(PoolDir pool, Path spool, boolean snapshot) throws Exception {
        LivePool.offline(pool, () -> {
            try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
                ImportDiffCommand.applyRbd(fs, volume, spool, snapshot);
            }
        });
    }
}
