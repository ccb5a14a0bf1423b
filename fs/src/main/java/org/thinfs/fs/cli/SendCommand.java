package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.core.diff.BlockDelta;
import org.thinfs.core.diff.DiffExporter;
import org.thinfs.core.diff.RbdDiff;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.model.Catalog;
import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.rbd.RbdTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code thinfs send POOL VOLUME rbd:RBDPOOL/IMAGE}: keeps an RBD image in step with a volume's snapshot sets. The
 * newest set the image also has (by name; else a bookmark of one) is the common base; the image's head is rolled
 * back to it (a send cut short leaves only a head that differs, never a snapshot), and every newer set goes, oldest
 * first, as an rbd diff stream piped into {@code rbd import-diff -}, which creates the snapshot once the stream
 * applied. An image with a snapshot thinfs lacks newer than the base has diverged: refused, unless --force (those
 * snapshots are removed).
 */
@Command(name = "send", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Keep an RBD image in step with a volume and its snapshot sets.",
        description = "Sends every snapshot set of VOLUME that the image lacks, oldest first, as incremental rbd "
                + "diff streams into 'rbd import-diff' (the image is created when missing). Safe to repeat and to "
                + "interrupt: the next send rolls the image back to the newest common snapshot and goes on.")
final class SendCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;
    @Parameters(index = "1", paramLabel = "VOLUME")
    String volume;
    @Parameters(index = "2", paramLabel = "rbd:RBDPOOL/IMAGE")
    String target;
    @Option(names = "--snapshot", paramLabel = "NAME", description = "First take snapshot set NAME of VOLUME, so "
            + "that its current state goes too.")
    String snapshot;
    @Option(names = "--force", description = "Remove the image's snapshots that thinfs lacks (diverged history).")
    boolean force;
    @Option(names = "--ceph-conf", paramLabel = "FILE", description = "The cluster's ceph.conf (passed to rbd).")
    String cephConf;
    @Option(names = "--id", paramLabel = "NAME", description = "The Ceph user, without 'client.' (passed to rbd).")
    String cephId;
    @Option(names = "--json", description = "Print a summary as JSON: snapshots sent, bytes, seconds.")
    boolean json;

    /** The image metadata key send sets on an image it creates: such an image may be rebuilt from scratch. */
    static final String SOURCE_KEY = "thinfs.source";

    /** A snapshot set of the volume: its name and the member's device id and size. */
    private record Snap(String name, long created, long id, long size) {
    }

    @Override
    public Integer call() throws Exception {
        String image;
        try {
            image = RbdTool.image(target);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        PoolDir pool = Pools.requirePool(dir);
        if (snapshot != null) {
            ObjectNode req = ControlProtocol.request("snapshot");
            req.put("name", snapshot);
            req.putArray("volumes").add(volume);
            PoolOps.run(pool, req, fs -> {
                fs.snapshots().take(snapshot, List.of(volume));
                return null;
            });
        }
        RbdTool rbd = new RbdTool(cephConf, cephId);
        long started = System.nanoTime();
        List<String> sent = new ArrayList<>();
        long[] bytes = {0};
        try (PoolFileSystem fs = Pools.openFileSystem(pool, true)) {
            List<Snap> local = snapshotsOf(fs);
            if (local.isEmpty()) {
                throw new Main.UsageError(volume + " has no snapshot set to send: take one (thinfs snapshot, or "
                        + "--snapshot NAME)");
            }
            boolean created = !rbd.exists(image);
            if (created) {
                rbd.run("create", "--size", local.get(0).size() + "B", image);
                rbd.run("image-meta", "set", image, SOURCE_KEY, volume);
                progress("created " + image);
            }
            List<String> remote = rbd.snapshots(image);
            int base = -1;                                 // index in local of the newest common set
            for (int i = local.size() - 1; i >= 0 && base < 0; i--) {
                if (remote.contains(local.get(i).name())) {
                    base = i;
                }
            }
            String common = base >= 0 ? local.get(base).name() : null;
            Catalog.Bookmark mark = base >= 0 ? null : bookmarkIn(fs, remote);
            String since = common != null ? common : mark != null ? mark.set : null;
            List<String> newer = since == null ? remote : remote.subList(remote.indexOf(since) + 1, remote.size());
            List<String> foreign = newer.stream().filter(n -> local.stream().noneMatch(s -> s.name().equals(n)))
                    .toList();
            boolean notOurs = since == null && !created && (!remote.isEmpty() || !madeBySend(rbd, image));
            if (!foreign.isEmpty() || notOurs) {
                if (!force) {
                    throw new Main.UsageError("nothing was sent: " + image + " has diverged from " + volume + " ("
                            + (foreign.isEmpty() ? "no snapshot in common, and thinfs send did not make it"
                            : "snapshot " + foreign.get(0)
                            + " is not one of " + volume + "'s") + "); --force removes the image's snapshots after "
                            + "the newest common one");
                }
                for (String f : since == null ? remote : foreign) {
                    rbd.run("snap", "rm", "--no-progress", image + "@" + f);
                    progress("removed snapshot " + f + " of " + image + " (--force)");
                }
            }
            if (since != null) {
                rollBack(rbd, image + "@" + since);
            } else if (!created) {
                // No base at all: the image's bytes are not ours to build on; start from an empty image.
                rbd.run("resize", "--no-progress", "--allow-shrink", "--size", "0B", image);
            }
            long previous = base >= 0 ? local.get(base).id() : -1;
            int start = base + 1;
            if (mark != null) {                            // sets older than the bookmark are not the image's to get
                while (start < local.size() && local.get(start).created() <= mark.created) {
                    start++;
                }
            }
            for (int i = start; i < local.size(); i++) {
                Snap s = local.get(i);
                String from = i == start ? since : local.get(i - 1).name();
                BlockDelta.Scan delta = mark != null && i == start
                        ? BlockDelta.writtenSince(fs.pool(), s.id(), mark.volumes.get(volume).since)
                        : BlockDelta.between(fs.pool(), previous, s.id());
                DiffExporter.Stats[] st = new DiffExporter.Stats[1];
                rbd.feed(out -> st[0] = RbdDiff.export(fs.pool(), delta, s.id(), s.size(), from, s.name(), out),
                        "import-diff", "--no-progress", "-", image);
                bytes[0] += st[0].changedBytes();
                sent.add(s.name());
                progress("sent " + s.name() + (from == null ? " (full)" : " (since " + from + ")") + ": "
                        + Sizes.human(st[0].changedBytes()));
                previous = s.id();
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("image", image);
            sent.forEach(o.putArray("sent")::add);
            o.put("bytes", bytes[0]);
            o.put("seconds", Math.round(seconds * 1000) / 1000.0);
            System.out.println(o);
        } else {
            System.out.printf("%s: %d snapshot set%s sent, %s, %.1f s%n", image, sent.size(),
                    sent.size() == 1 ? "" : "s", Sizes.human(bytes[0]), seconds);
        }
        return 0;
    }

    private static boolean madeBySend(RbdTool rbd, String image) throws IOException {
        try {
            rbd.run("image-meta", "get", image, SOURCE_KEY);
            return true;
        } catch (IOException e) {
            if (e.getMessage().startsWith("rbd image-meta failed")) {
                return false;
            }
            throw e;
        }
    }

    /** VOLUME's snapshot sets, oldest first (by time taken, then name). */
    private List<Snap> snapshotsOf(PoolFileSystem fs) {
        return fs.readNames((doc, lost) -> {
            List<Snap> out = new ArrayList<>();
            doc.snapshots.forEach((name, set) -> {
                Catalog.Entry e = set.volumes.get(volume);
                if (e != null) {
                    out.add(new Snap(name, set.created, e.id, e.size));
                }
            });
            out.sort(java.util.Comparator.comparingLong(Snap::created).thenComparing(Snap::name));
            return out;
        });
    }

    /** The newest bookmark of VOLUME whose set the image has (the set itself gone here), or null. */
    private Catalog.Bookmark bookmarkIn(PoolFileSystem fs, List<String> remote) {
        Catalog.Bookmark best = null;
        for (Catalog.Bookmark b : fs.snapshots().bookmarks().values()) {
            if (b.volumes.containsKey(volume) && remote.contains(b.set) && (best == null || b.created > best.created)) {
                best = b;
            }
        }
        return best;
    }

    /** How long a rollback waits for the image's lock to be let go: Ceph's watch timeout (30 s) and some. */
    private static final long LOCK_WAIT_NS = 45_000_000_000L;

    /**
     * Rolls {@code snap}'s image back to it. A send killed while {@code rbd import-diff} wrote leaves the image's
     * exclusive lock with a client that is gone but whose watch Ceph keeps for its timeout (30 s); until then librbd
     * cannot take the lock and refuses the rollback with EROFS. So the rollback is tried again for a while, never by
     * breaking the lock (its holder might be alive: a VM, another send).
     */
    private static void rollBack(RbdTool rbd, String snap) throws IOException {
        long until = System.nanoTime() + LOCK_WAIT_NS;
        boolean told = false;
        while (true) {
            try {
                rbd.run("snap", "rollback", "--no-progress", snap);
                return;
            } catch (IOException e) {
                if (!String.valueOf(e.getMessage()).contains("(30) Read-only file system")
                        || System.nanoTime() - until > 0) {
                    throw e;
                }
                if (!told) {
                    progress("the image's lock is held (a send killed earlier?); waiting up to 45 s for Ceph to let "
                            + "it go");
                    told = true;
                }
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static void progress(String line) {
        System.err.println("thinfs send: " + line);
    }
}
