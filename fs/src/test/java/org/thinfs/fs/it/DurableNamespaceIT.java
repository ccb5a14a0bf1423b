package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A namespace change is durable when its call returns: each operation runs as {@code OP && kill -9 DAEMON} in one
 * shell (no sleep, no sync), the pool is remounted, and the names, sizes, modes, owners, mtimes and atimes must be
 * what the model says, with a clean thin_check. Seeded sequences of operations (chown, touch -a, touch -m and
 * thinfs rollback among them), with a writer hammering another volume throughout so every commit also has data to flush. The seed and
 * step are in every failure message.
 *
 * <p>Seeds: {@code -Dthinfs.durable.seeds=N} (default 2), steps per seed {@code -Dthinfs.durable.steps=M}
 * (default 12).
 */
class DurableNamespaceIT {
    @TempDir
    Path tmp;

    /**
     * What the mount must show: top-level volumes (name → "size mode mtime uid:gid atime", a time the model does not
     * pin as *) and snapshot sets (set → names).
     */
    private final TreeMap<String, String> volumes = new TreeMap<>();
    private final TreeMap<String, TreeMap<String, String>> sets = new TreeMap<>();
    private int freshNames;

    @Test
    void everyNamespaceChangeSurvivesAKillNineRightAfterItReturns() throws Exception {
        int seeds = Integer.getInteger("thinfs.durable.seeds", 2);
        int steps = Integer.getInteger("thinfs.durable.steps", 12);
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.sh("truncate -s 64M busy").ok();
            for (int seed = 1; seed <= seeds; seed++) {
                Random rnd = new Random(seed);
                for (int step = 0; step < steps; step++) {
                    String where = "seed " + seed + " step " + step;
                    String op = nextOperation(rnd, step);
                    System.out.println(where + ": " + op);
                    AtomicBoolean stop = new AtomicBoolean();
                    Thread writer = new Thread(() -> hammer(p.mnt.resolve("busy"), new Random(rnd.nextLong()), stop));
                    writer.start();
                    long pid = p.daemonPid();
                    p.sh(op + " && kill -9 " + pid).ok();
                    p.afterKill(pid);
                    stop.set(true);
                    writer.join(30_000);
                    assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), where + ": " + op);
                    p.mount();
                    assertEquals(volumes.toString(), shownVolumes(p), where + " after `" + op + "`");
                    assertEquals(modelSets(), shownSets(p), where + " after `" + op + "`");
                }
            }
            p.unmount();
            MountIT.assertCheckedAndNamed(p);
        }
    }

    /**
     * A write in place followed by fsync changes only the volume's times, which fsync must make durable too (the
     * times log, no commit): its mtime, to the nanosecond, survives a kill -9 right after the fsync returns.
     */
    @Test
    void anFsyncedWriteInPlaceKeepsItsMtimeThroughAKillNine() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            p.sh("truncate -s 1M v && dd if=/dev/urandom of=v bs=64k count=1 conv=notrunc,fsync status=none"
                    + " && touch -m -d @1000000000 v && sync v").ok();
            for (int round = 0; round < 3; round++) {
                long pid = p.daemonPid();
                String out = p.sh("dd if=/dev/urandom of=v bs=4k seek=" + round + " count=1 conv=notrunc,fsync"
                        + " status=none && stat -c %.9Y v && kill -9 " + pid).ok().out().trim();
                p.afterKill(pid);
                p.mount();
                assertEquals(out, p.sh("stat -c %.9Y v").ok().out().trim(), "round " + round);
                assertTrue(!out.startsWith("1000000000."), "the write moved mtime: " + out);
            }
            p.unmount();
            MountIT.assertCheckedAndNamed(p);
        }
    }

    /** Picks an operation that applies to the model, updates the model as if it ran, and returns its shell text. */
    private String nextOperation(Random rnd, int step) {
        List<String> vols = new ArrayList<>(volumes.keySet());
        String fresh = "v" + (freshNames++);                       // never a name of an earlier seed
        int kind = vols.isEmpty() ? 0 : rnd.nextInt(14);
        String[] rollback = kind == 13 ? rollbackCandidate(rnd) : null;
        if (kind == 13 && rollback == null) {
            kind = 3;
        }
        if ((kind == 7 || kind == 9) && sets.isEmpty()) {
            kind = 3;
        }
        if (kind == 9 && sets.firstEntry().getValue().isEmpty()) {
            kind = 7;
        }
        String v = vols.isEmpty() ? null : vols.get(rnd.nextInt(vols.size()));
        long mtime = 1_000_000_000L + rnd.nextInt(1_000_000);
        switch (kind) {
            case 0 -> {                                              // create with a size
                long size = (1 + rnd.nextInt(8)) << 20;
                volumes.put(fresh, size + " 644 * 0:0 *");
                return "truncate -s " + size + " " + fresh;
            }
            case 1 -> {                                              // resize, up or down
                long size = (1 + rnd.nextInt(8)) << 20;
                volumes.put(v, with(with(volumes.get(v), 0, Long.toString(size)), 2, "*"));   // not atime
                return "truncate -s " + size + " " + v;
            }
            case 2 -> {                                              // chmod
                String mode = rnd.nextBoolean() ? "600" : "640";
                volumes.put(v, with(volumes.get(v), 1, mode));
                return "chmod " + mode + " " + v;
            }
            case 3 -> {                                              // snapshot set of every volume
                String s = "s" + (freshNames++);
                TreeMap<String, String> names = new TreeMap<>(volumes);
                names.put("busy", (64 << 20) + " 644 * 0:0 *");
                sets.put(s, names);
                return "mkdir snapshots/" + s;
            }
            case 4 -> {                                              // clone
                volumes.put(fresh, volumes.get(v));         // owner and times too; every mode here has u+w
                return "ln " + v + " " + fresh;
            }
            case 5 -> {                                              // rename
                volumes.put(fresh, volumes.remove(v));
                return "mv " + v + " " + fresh;
            }
            case 6 -> {                                              // delete
                volumes.remove(v);
                return "rm " + v;
            }
            case 7 -> {                                              // delete a snapshot set
                String s = sets.firstKey();
                sets.remove(s);
                return "rm -r snapshots/" + s;
            }
            case 9 -> {                                              // restore: a snapshot volume onto a name
                String s = sets.firstKey();
                String n = sets.get(s).firstKey();
                String target = rnd.nextBoolean() ? v : fresh;
                volumes.put(target, sets.get(s).remove(n));
                return "mv snapshots/" + s + "/" + n + " " + target;
            }
            case 10 -> {                                             // chown, root to anyone
                String owner = (1 + rnd.nextInt(65000)) + ":" + (1 + rnd.nextInt(65000));
                volumes.put(v, with(volumes.get(v), 3, owner));
                return "chown " + owner + " " + v;
            }
            case 11 -> {                                             // atime alone (UTIME_OMIT for mtime)
                long atime = 1_000_000_000L + rnd.nextInt(1_000_000);
                volumes.put(v, with(volumes.get(v), 4, Long.toString(atime)));
                return "touch -a -d @" + atime + " " + v;
            }
            case 13 -> {                                             // rollback in place: size back, mode and owner kept
                String member = sets.get(rollback[0]).get(rollback[1]);
                volumes.put(rollback[1], with(with(volumes.get(rollback[1]), 0, member.split(" ")[0]), 2, "*"));
                return "java -jar " + MountedPool.JAR + " rollback " + tmp.resolve("pool") + " " + rollback[0] + " "
                        + rollback[1] + " >/dev/null";
            }
            case 12 -> {                                             // mtime alone (UTIME_OMIT for atime)
                volumes.put(v, with(volumes.get(v), 2, Long.toString(mtime)));
                return "touch -m -d @" + mtime + " " + v;
            }
            default -> {                                             // both times
                volumes.put(v, with(with(volumes.get(v), 2, Long.toString(mtime)), 4, Long.toString(mtime)));
                return "touch -d @" + mtime + " " + v;
            }
        }
    }

    /** A set and a volume of it that also lives at the top level (not busy), or null. */
    private String[] rollbackCandidate(Random rnd) {
        List<String[]> found = new ArrayList<>();
        sets.forEach((s, names) -> names.keySet().forEach(n -> {
            if (volumes.containsKey(n)) {
                found.add(new String[]{s, n});
            }
        }));
        return found.isEmpty() ? null : found.get(rnd.nextInt(found.size()));
    }

    /** A model entry ("size mode mtime uid:gid atime") with field {@code i} replaced. */
    private static String with(String fields, int i, String value) {
        String[] f = fields.split(" ");
        f[i] = value;
        return String.join(" ", f);
    }

    /**
     * Every top-level volume but {@code busy} as "size mode mtime uid:gid atime"; a time the model does not pin
     * shows as *.
     */
    private String shownVolumes(MountedPool p) throws Exception {
        TreeMap<String, String> shown = new TreeMap<>();
        String out = p.sh("stat -c '%n %s %a %Y %u:%g %X' -- * 2>/dev/null "
                + "| grep -v '^busy \\|^snapshots \\|^lost+found ' || true").ok().out();
        for (String line : out.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(" ");
            String[] expected = volumes.containsKey(f[0]) ? volumes.get(f[0]).split(" ") : null;
            String mtime = expected != null && expected[2].equals("*") ? "*" : f[3];
            String atime = expected != null && expected[4].equals("*") ? "*" : f[5];
            shown.put(f[0], f[1] + " " + f[2] + " " + mtime + " " + f[4] + " " + atime);
        }
        return shown.toString();
    }

    /** Snapshot sets as the mount lists them: set → its volume names. */
    private static TreeMap<String, TreeSet<String>> shownSets(MountedPool p) throws Exception {
        TreeMap<String, TreeSet<String>> shown = new TreeMap<>();
        for (String s : p.sh("ls snapshots").ok().out().split("\n")) {
            if (!s.isBlank()) {
                TreeSet<String> names = new TreeSet<>(List.of(p.sh("ls snapshots/" + s).ok().out().split("\n")));
                names.remove("");
                shown.put(s, names);
            }
        }
        return shown;
    }

    private TreeMap<String, TreeSet<String>> modelSets() {
        TreeMap<String, TreeSet<String>> m = new TreeMap<>();
        sets.forEach((k, v) -> m.put(k, new TreeSet<>(v.keySet())));
        return m;
    }

    /** Random 4 KiB writes without fsync until stopped or the daemon dies. */
    private static void hammer(Path vol, Random rnd, AtomicBoolean stop) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try (FileChannel ch = FileChannel.open(vol, StandardOpenOption.WRITE)) {
            while (!stop.get()) {
                buf.clear();
                buf.putLong(0, rnd.nextLong());
                ch.write(buf, (long) rnd.nextInt(16384) * 4096);
            }
        } catch (Exception e) {
            // The daemon was killed under us: expected.
        }
    }
}
