package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;
import org.thinfs.core.tools.DeviceDump;
import org.thinfs.core.tools.PoolDump;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real mounts driven by ordinary tools. After every unmount the real thin_check passes and thin_dump lists exactly
 * the devices the catalog names.
 */
class MountIT {
    @TempDir
    Path tmp;

    @Test
    void volumesProvisionReadZerosPunchAndDelete() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "1G")) {
            assertWarmedUpOnAScratchPool(p);
            String jvm = Files.readString(Path.of("/proc/" + p.daemonPid() + "/cmdline")).replace('\0', ' ');
            assertTrue(jvm.contains(" -XX:TieredStopAtLevel=1 ") && jvm.contains(" -XX:+UseSerialGC ")
                            && jvm.contains(" -XX:CompileCommand=CompileThresholdScaling,org.thinfs.*::*,0.1 "),
                    "the daemon runs with the JVM options Daemonizer chose (C1 only, early compiles): " + jvm);
            p.sh("truncate -s 256M vm1 && [ $(stat -c %s vm1) = 268435456 ] && [ $(stat -c %b vm1) = 0 ]").ok();
            p.sh("head -c 4096 vm1 | cmp - <(head -c 4096 /dev/zero)").ok();
            p.sh("dd if=/dev/urandom of=/tmp/in.$$ bs=1M count=8 status=none && "
                    + "dd if=/tmp/in.$$ of=vm1 bs=1M seek=3 conv=notrunc,fsync status=none && "
                    + "cmp <(dd if=vm1 bs=1M skip=3 count=8 status=none) /tmp/in.$$ && rm /tmp/in.$$").ok();
            long du = Long.parseLong(p.sh("du -k vm1 | cut -f1").ok().out().trim());
            assertEquals(8 * 1024, du, "du shows what is provisioned");
            String df = p.sh("df -B1 --output=size,used . | tail -1").ok().out().trim();
            assertTrue(df.startsWith("1073741824"), df);
            p.sh("fallocate --punch-hole --offset 4M --length 2M vm1").ok();
            assertEquals(6 * 1024, Long.parseLong(p.sh("du -k vm1 | cut -f1").ok().out().trim()));
            p.sh("cmp <(dd if=vm1 bs=1M skip=4 count=2 status=none) <(head -c 2M /dev/zero)").ok();
            p.sh("truncate -s 5M vm1 && [ $(stat -c %s vm1) = 5242880 ] && truncate -s 1G vm1").ok();
            assertEquals(1024, Long.parseLong(p.sh("du -k vm1 | cut -f1").ok().out().trim()),
                    "shrinking unmaps past the new end");
            p.sh("cmp <(dd if=vm1 bs=1M skip=5 count=10 status=none) <(head -c 10M /dev/zero)").ok();
            p.sh("echo hello > vm2 && rm vm1 && ls").ok();
            assertEquals("vm2", p.sh("ls | grep -v -e snapshots -e lost+found").ok().out().trim());
            p.unmount();
            assertCheckedAndNamed(p);
        }
    }

    @Test
    void theWriteBehindSleepsWhileNothingIsWrittenAndRunsWhileDataIs() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "1G")) {
            Path task = writeBehindThread(p.daemonPid());
            p.sh("truncate -s 256M vm1 && dd if=/dev/urandom of=vm1 bs=1M count=4 conv=notrunc status=none").ok();
            Thread.sleep(300);                            // the pass those writes started ends
            long before = wakeUps(task);
            Thread.sleep(2000);
            long idle = wakeUps(task) - before;
            assertTrue(idle <= 3, "an idle pool's write-behind woke " + idle + " times in 2 s (a 20 ms timer: 100)");
            before = wakeUps(task);
            p.sh("for i in $(seq 20); do dd if=/dev/urandom of=vm1 bs=64K count=16 seek=$((i * 16)) "
                    + "conv=notrunc status=none; sleep 0.05; done").ok();
            long busy = wakeUps(task) - before;
            assertTrue(busy >= 10, "writes for ~1 s woke the write-behind only " + busy + " times");
        }
    }

    @Test
    void namesTakenAwayOutsideTheMountAreGoneFromItAtOnce() throws Exception {
        // The kernel would trust a name for a second (libfuse2's default entry_timeout); a volume or snapshot deleted
        // or renamed through the control socket or the CLI must not stay visible to the next command of a script.
        try (MountedPool p = new MountedPool(tmp, "1G")) {
            String sock = p.pool.resolve("control.sock").toString();
            for (int i = 0; i < 5; i++) {
                p.sh("truncate -s 1M v" + i + " && mkdir snapshots/s" + i + " && stat v" + i + " snapshots/s" + i
                        + "/v" + i + " >/dev/null").ok();
                p.sh("echo '{\"version\":1,\"op\":\"volume-delete\",\"name\":\"v" + i + "\"}' | socat - "
                        + "UNIX-CONNECT:" + sock + " | grep -q '\"ok\":true' && [ ! -e v" + i + " ]").ok();
                p.sh("echo '{\"version\":1,\"op\":\"snapshot-delete\",\"name\":\"s" + i + "\"}' | socat - "
                        + "UNIX-CONNECT:" + sock + " | grep -q '\"ok\":true' && [ ! -e snapshots/s" + i + "/v" + i
                        + " ] && [ ! -e snapshots/s" + i + " ]").ok();
            }
            p.sh("truncate -s 1M old && stat old >/dev/null").ok();
            p.thinfs("volume", "rename", p.pool.toString(), "old", "new").ok();
            p.sh("[ ! -e old ] && [ -e new ] && [ \"$(ls | grep -v -e snapshots -e lost+found)\" = new ]").ok();
            p.unmount();
            assertCheckedAndNamed(p);
        }
    }

    /** The daemon's write-behind thread, by its name (Linux keeps the first 15 characters). */
    private static Path writeBehindThread(long pid) throws Exception {
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                if (Files.readString(t.resolve("comm")).trim().equals("thinfs-write-be")) {
                    return t;
                }
            }
        }
        throw new AssertionError("no thinfs-write-behind thread in daemon " + pid);
    }

    private static long wakeUps(Path task) throws Exception {
        for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        throw new AssertionError("no voluntary_ctxt_switches in " + task);
    }

    @Test
    void snapshotsClonesAndRestore() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "1G")) {
            p.sh("truncate -s 64M a && truncate -s 64M b && echo one | dd of=a conv=notrunc status=none"
                    + " && echo bee | dd of=b conv=notrunc status=none").ok();
            p.sh("mkdir snapshots/s1 && ls snapshots/s1").ok();
            assertEquals("a\nb", p.sh("ls snapshots/s1").ok().out().trim());
            p.sh("echo two | dd of=a conv=notrunc,fsync status=none").ok();
            assertEquals("one", p.sh("head -c 3 snapshots/s1/a").ok().out());
            assertEquals("two", p.sh("head -c 3 a").ok().out());
            Sh.Result w = p.sh("echo x | dd of=snapshots/s1/a conv=notrunc status=none");
            assertNotEquals(0, w.code());
            assertTrue(w.out().contains("Read-only"), w.out());
            p.sh("ln snapshots/s1/a a.new && mv a.new a").ok();
            assertEquals("one", p.sh("head -c 3 a").ok().out(), "restored from the snapshot");
            p.sh("ln b b2 && echo bbb | dd of=b2 conv=notrunc status=none").ok();
            assertEquals("bee", p.sh("head -c 3 b").ok().out(), "a clone is independent");
            p.sh("mkdir snapshots/s2 && mv snapshots/s2 snapshots/s3 && rm -r snapshots/s1 && ls snapshots").ok();
            assertEquals("s3", p.sh("ls snapshots").ok().out().trim());
            p.unmount();
            assertCheckedAndNamed(p);
            JsonNode st = new ObjectMapper().readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
            assertEquals(3, st.get("volumes").size());
            assertEquals(3, st.get("snapshots").get("s3").size());
        }
    }

    @Test
    void badNamesGetClearErrors() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            String longName = "x".repeat(300);
            Sh.Result r = p.sh("touch " + longName);
            assertNotEquals(0, r.code());
            assertTrue(r.out().contains("too long"), r.out());
            r = p.sh("touch $'bad\\001name'");
            assertNotEquals(0, r.code());
            assertTrue(r.out().contains("Invalid argument"), r.out());
            r = p.sh("mkdir other");
            assertNotEquals(0, r.code());
            r = p.sh("touch snapshots/file");
            assertNotEquals(0, r.code());
            r = p.sh("truncate -s 1M ../mnt/../mnt/ok && ls");
            r.ok();
            assertTrue(r.out().contains("ok"));
        }
    }

    @Test
    void fullPoolGivesEnospcToTheWriterAndOthersKeepWorking() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "8M")) {
            p.sh("truncate -s 64M big && truncate -s 1M small && echo keep | dd of=small conv=notrunc,fsync "
                    + "status=none").ok();
            Sh.Result r = p.sh("dd if=/dev/urandom of=big bs=1M count=32 conv=notrunc,fsync status=none");
            assertNotEquals(0, r.code());
            assertTrue(r.out().contains("No space left"), r.out());
            assertEquals("keep", p.sh("head -c 4 small").ok().out());
            p.sh("echo again | dd of=small conv=notrunc,fsync status=none").ok();
            p.unmount();
            assertCheckedAndNamed(p);
        }
    }

    @Test
    void ext4OnALoopDeviceAndItsSnapshotReadOnly() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "2G")) {
            Path live = tmp.resolve("live");
            Path snap = tmp.resolve("snap");
            Files.createDirectories(live);
            Files.createDirectories(snap);
            String script = String.join("\n",
                    "set -e",
                    "truncate -s 512M disk",
                    "L=$(losetup --find --show disk)",
                    "trap 'umount " + snap + " 2>/dev/null; umount " + live + " 2>/dev/null; losetup -d $L; "
                            + "[ -n \"${S:-}\" ] && losetup -d $S' EXIT",
                    "mkfs.ext4 -q $L",
                    "mount $L " + live,
                    "head -c 5M /dev/urandom > " + live + "/file",
                    "sha=$(sha256sum < " + live + "/file)",
                    "sync; fsfreeze -f " + live + "; mkdir snapshots/before; fsfreeze -u " + live,
                    "echo changed > " + live + "/file; sync",
                    "S=$(losetup --find --show --read-only snapshots/before/disk)",
                    "mount -o ro,noload $S " + snap,
                    "[ \"$(sha256sum < " + snap + "/file)\" = \"$sha\" ]",
                    "[ \"$(cat " + live + "/file)\" = changed ]",
                    "echo OK");
            Sh.Result r = p.sh(script);
            assertTrue(r.out().contains("OK"), r.out());
            p.unmount();
            assertCheckedAndNamed(p);
        }
    }

    @Test
    void killDashNineLosesNothingThatWasFsynced() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "512M")) {
            p.sh("truncate -s 64M vol && head -c 16M /dev/urandom > /tmp/k.$$ && "
                    + "dd if=/tmp/k.$$ of=vol conv=notrunc,fsync status=none && sha256sum < /tmp/k.$$ > "
                    + tmp.resolve("sum") + " && rm /tmp/k.$$").ok();
            // Unsynced writes after the fsync may or may not survive; the fsynced ones must.
            p.sh("dd if=/dev/urandom of=vol bs=1M seek=32 count=4 conv=notrunc status=none").ok();
            long pid = Long.parseLong(Files.readString(p.pool.resolve("thinfs.pid")).trim());
            Sh.run(tmp, java.util.List.of("kill", "-9", Long.toString(pid))).ok();
            ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
            Sh.run(tmp, java.util.List.of("fusermount", "-u", "-z", p.mnt.toString()));
            Files.deleteIfExists(p.pool.resolve("thinfs.pid"));
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check after kill -9");
            p.mount();
            assertEquals(Files.readString(tmp.resolve("sum")).trim(),
                    p.sh("head -c 16M vol | sha256sum").ok().out().trim());
            p.unmount();
            assertCheckedAndNamed(p);
        }
    }

    @Test
    void resizeWhileMounted() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "16M")) {
            p.sh("truncate -s 64M v").ok();
            Sh.Result full = p.sh("dd if=/dev/urandom of=v bs=1M count=32 conv=notrunc,fsync status=none");
            assertNotEquals(0, full.code(), "16 MiB cannot hold 32 MiB");
            p.thinfs("resize", p.pool.toString(), "--data", "64M", "--metadata", "8M").ok();
            assertEquals("67108864", p.sh("df -B1 --output=size . | tail -1").ok().out().trim());
            p.sh("dd if=/dev/urandom of=v bs=1M count=32 conv=notrunc,fsync status=none").ok();
            Sh.Result shrink = p.thinfs("resize", p.pool.toString(), "--data", "32M");
            assertNotEquals(0, shrink.code());
            assertTrue(shrink.out().contains("cannot shrink"), shrink.out());
            p.unmount();
            assertCheckedAndNamed(p);
        }
    }

    /** thin_check passes and thin_dump's devices are exactly the ones the catalog names. */
    /**
     * The daemon ran its request paths over before the mount appeared (fuse/Warmup), on a scratch pool it deleted,
     * and the user's pool holds nothing from it: no volume, no mapped block.
     */
    static void assertWarmedUpOnAScratchPool(MountedPool p) throws Exception {
        String log = Files.readString(p.pool.resolve("thinfs.log"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "request paths warmed up in \\d+ ms \\((\\d+) rounds on a scratch pool in (\\S+), deleted\\)").matcher(log);
        assertTrue(m.find(), "no warm-up line in the log:\n" + log);
        assertTrue(Integer.parseInt(m.group(1)) >= 1, m.group());
        assertFalse(Files.exists(Path.of(m.group(2))), "the scratch pool " + m.group(2) + " was left behind");
        assertFalse(log.contains("warm-up skipped"), log);
        assertEquals("", p.sh("ls | grep -v -e snapshots -e lost+found || true").ok().out().trim());
        assertEquals("0", p.sh("df -B1 --output=used . | tail -1").ok().out().trim(), "nothing mapped in the pool");
    }

    static void assertCheckedAndNamed(MountedPool p) throws Exception {
        Path meta = p.pool.resolve("metadata");
        ThinTools.Result check = ThinTools.check(meta);
        assertEquals(0, check.exitCode(), check.toString());
        PoolDump dump = ThinTools.dumpIr(meta, false);
        Set<Long> dumped = new TreeSet<>();
        for (DeviceDump d : dump.devices()) {
            dumped.add(d.devId());
        }
        JsonNode st = new ObjectMapper().readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
        Set<Long> named = new TreeSet<>();
        st.get("volumes").forEach(v -> named.add(v.get("id").asLong()));
        st.get("snapshots").forEach(s -> s.forEach(v -> named.add(v.get("id").asLong())));
        assertEquals(dumped, named);
        assertFalse(st.get("lostFound").size() > 0, "no device is unnamed");
        assertEquals(0, p.thinfs("check", p.pool.toString()).code(), "thinfs check agrees");
    }
}
