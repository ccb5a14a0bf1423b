package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A volume's owner and times behave as a file's, through ordinary tools on one shared mount (allow_other, so another
 * user can try; an NBD socket, so NBD writes count too): every write path (FUSE write, append, copy_file_range,
 * punch, truncate, NBD, import-diff) moves mtime and ctime, kept across a remount; rsync's quick check sees an
 * in-place write; utimensat sets each time on its own (UTIME_OMIT / UTIME_NOW) to the nanosecond, and cp -p and tar
 * keep a file's times; chown is stored, kept by snapshots and clones, refused to a non-owner; a snapshot's members
 * refuse chmod, chown and utimens with EROFS; a volume removed (or replaced by mv) while open leaves the namespace at
 * once and is freed at its last close, or at the next mount after a kill -9.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FileAttributesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MIB = 1 << 20;
    /** The time every volume is set to before a write: far in the past, so "moved to about now" is unmistakable. */
    private static final String PAST = "1000000000.000000000";

    @TempDir
    static Path tmp;

    private MountedPool p;
    private Path host;

    @BeforeAll
    void mountOnce() throws Exception {
        // Another user (uid 1000) must reach the mount point: every directory above it must let them through.
        Sh.bash(tmp, "chmod 755 " + tmp).ok();
        host = Files.createDirectories(tmp.resolve("host"));
        p = MountedPool.created(tmp, "512M");
        mount();
    }

    @AfterAll
    void unmountAtTheEnd() throws Exception {
        if (p != null) {
            p.close();
        }
    }

    /** A failed case may leave the pool unmounted (killed, or between an unmount and a mount): mount it again. */
    @BeforeEach
    void mounted() throws Exception {
        if (!p.mounted()) {
            Files.deleteIfExists(p.pool.resolve("thinfs.pid"));
            mount();
        }
    }

    private void mount() throws Exception {
        p.mount("-o", "allow_other", "--nbd", "unix:" + tmp.resolve("nbd.sock"));
    }

    private void remount() throws Exception {
        p.unmount();
        mount();
    }

    private String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + tmp.resolve("nbd.sock");
    }

    /** stat -c FORMAT of a path below the mount point. */
    private String stat(String format, String file) throws Exception {
        return p.sh("stat -c '" + format + "' -- '" + file + "'").ok().out().trim();
    }

    /** "%.9Y"-style seconds with nine decimals, as nanoseconds. */
    private static long ns(String seconds) {
        return new BigDecimal(seconds).movePointRight(9).longValueExact();
    }

    private static void assertNearNow(String what, String seconds) {
        long now = System.currentTimeMillis() / 1000;
        long s = ns(seconds) / 1_000_000_000L;
        assertTrue(Math.abs(now - s) <= 120, what + ": " + seconds + " is not about now (" + now + ")");
    }

    /** Bytes used as df shows them for the mount. */
    private long used() throws Exception {
        return Long.parseLong(p.sh("df -B1 --output=used . | tail -1").ok().out().trim());
    }

    /** Polls df until the pool uses at most {@code limit} bytes; fails after {@code seconds}. */
    private void awaitUsedAtMost(long limit, int seconds, String what) throws Exception {
        long u = used();
        for (int i = 0; i < seconds * 10 && u > limit; i++) {
            Thread.sleep(100);
            u = used();
        }
        assertTrue(u <= limit, what + ": df shows " + u + " bytes used, expected at most " + limit);
    }

    /** The names `thinfs status --json` lists as volumes, top-level and in snapshot sets. */
    private List<String> statusNames() throws Exception {
        JsonNode st = JSON.readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
        List<String> names = new ArrayList<>();
        st.get("volumes").forEach(v -> names.add(v.get("name").asText()));
        st.get("snapshots").fields().forEachRemaining(s -> s.getValue().forEach(v ->
                names.add(s.getKey() + "/" + v.get("name").asText())));
        return names;
    }

    private String lsA() throws Exception {
        return p.sh("ls -a").ok().out();
    }

    /** A process that keeps {@code volume} open (as its stdin) until destroyed. */
    private Process holdOpen(String volume) throws Exception {
        return new ProcessBuilder("sleep", "1000").redirectInput(p.mnt.resolve(volume).toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    private static void end(Process h) throws InterruptedException {
        h.destroy();
        h.waitFor();
    }

    // ------------------------------------------------------------------------------------------------ 1. write paths

    @Test
    @Order(1)
    void everyWritePathMovesMtimeAndCtimeAndTheyLastAcrossARemount() throws Exception {
        p.sh("truncate -s 1M t1 && dd if=/dev/urandom of=src1 bs=64k count=4 status=none && truncate -s 1M src1")
                .ok();
        String[][] paths = {
            {"FUSE write (dd conv=notrunc)", "dd if=/dev/urandom of=t1 bs=4k count=1 seek=3 conv=notrunc status=none"},
            {"append (echo b >> t1)", "echo b >> t1"},
            {"copy_file_range destination", "python3 -c \"import os; a = os.open('src1', os.O_RDONLY); "
                    + "b = os.open('t1', os.O_WRONLY); n = os.copy_file_range(a, b, 65536, 0, 131072); "
                    + "assert n > 0, n\""},
            {"punch hole (fallocate -p)", "fallocate -p -o 0 -l 65536 t1"},
            {"truncate (grow)", "truncate -s 3M t1"},
            {"truncate (shrink)", "truncate -s 2M t1"},
            {"NBD write (qemu-io)", "qemu-io -f raw '" + uri("t1") + "' -c 'write -P 1 0 4k'"},
        };
        for (String[] path : paths) {
            String what = path[0] + ": `" + path[1] + "`";
            p.sh("touch -d @1000000000 t1").ok();
            assertEquals(PAST + " " + PAST, stat("%.9X %.9Y", "t1"), "touch -d before " + what);
            long ctimeBefore = ns(stat("%.9Z", "t1"));
            (path[0].startsWith("NBD") ? Sh.bash(tmp, path[1]) : p.sh(path[1])).ok();
            // NBD writes bypass the kernel: its attribute cache (1 s) may show the old times for a moment.
            String mtime = stat("%.9Y", "t1");
            for (int i = 0; i < 30 && mtime.equals(PAST); i++) {
                Thread.sleep(100);
                mtime = stat("%.9Y", "t1");
            }
            assertNotEquals(PAST, mtime, what + ": mtime did not move");
            assertNearNow(what + ": mtime", mtime);
            String ctime = stat("%.9Z", "t1");
            assertTrue(ns(ctime) > ctimeBefore, what + ": ctime " + ctime + " did not move past the touch's ("
                    + ctimeBefore + " ns)");
            assertNearNow(what + ": ctime", ctime);
            assertEquals(PAST, stat("%.9X", "t1"), what + ": a write leaves atime");
        }
        String fmt = "%s %.9X %.9Y %.9Z";
        String before = stat(fmt, "t1");
        remount();
        assertEquals(before, stat(fmt, "t1"), "size and times after a remount");

        // import-diff (offline): the volume's mtime and ctime move when a stream changes its bytes. (import-diff also
        // truncates the volume to the stream's size first, which alone moves them, even to the same size, as
        // truncate(2) does: this part holds on a thinfs that never marked the import itself too.)
        p.sh("truncate -s 1M t1 && touch -d @1000000000 t1 && mkdir snapshots/d1").ok();
        p.unmount();
        Path stream = tmp.resolve("d1.rbd");
        p.thinfs("export-diff", p.pool.toString(), "-", "snapshots/d1/src1", stream.toString(), "--format", "rbd")
                .ok();
        p.thinfs("import-diff", p.pool.toString(), "t1", stream.toString()).ok();
        mount();
        p.sh("cmp t1 snapshots/d1/src1").ok();
        assertNearNow("import-diff: mtime", stat("%.9Y", "t1"));
        assertNearNow("import-diff: ctime", stat("%.9Z", "t1"));

        // A snapshot member keeps its origin's times, and a later write into the origin leaves them.
        p.sh("touch -m -d @1100000000.5 t1 && touch -a -d @1050000000.25 t1 && mkdir snapshots/m1").ok();
        assertEquals("1050000000.250000000 1100000000.500000000", stat("%.9X %.9Y", "t1"));
        assertEquals(stat("%.9X %.9Y", "t1"), stat("%.9X %.9Y", "snapshots/m1/t1"), "snapshot member's times");
        p.sh("dd if=/dev/urandom of=t1 bs=4k count=1 conv=notrunc status=none").ok();
        assertEquals("1050000000.250000000 1100000000.500000000", stat("%.9X %.9Y", "snapshots/m1/t1"),
                "snapshot member's times after a write into its origin");
    }

    // ------------------------------------------------------------------------------------------------ 2. rsync

    @Test
    @Order(2)
    void rsyncSeesAnInPlaceWriteOfTheSameSize() throws Exception {
        Path bak = Files.createDirectories(tmp.resolve("bak"));
        p.sh("dd if=/dev/urandom of=r2 bs=64k count=16 status=none && touch -d @1000000000 r2").ok();
        Sh.bash(tmp, "rsync -a mnt/r2 bak/ && cmp mnt/r2 bak/r2").ok();
        p.sh("dd if=/dev/urandom of=r2 bs=4k count=2 seek=5 conv=notrunc status=none").ok();
        assertEquals(Long.toString(16 * 65536), stat("%s", "r2"), "same size");
        Sh.bash(tmp, "rsync -a mnt/r2 bak/").ok();
        Sh.Result cmp = Sh.bash(tmp, "cmp mnt/r2 " + bak.resolve("r2"));
        assertEquals(0, cmp.code(), "rsync -a after an in-place write: the backup differs from the volume ("
                + cmp.out().trim() + "); mtime " + stat("%.9Y", "r2"));
    }

    // ------------------------------------------------------------------------------------------------ 3. utimensat

    @Test
    @Order(3)
    void utimensatSetsEachTimeOnItsOwnToTheNanosecond() throws Exception {
        p.sh("truncate -s 64k u3").ok();
        // touch's flags, and the time (null: now). Each step: the model's two times, checked exactly.
        String[][] steps = {
            {"", "1000000000.123456789"},
            {"-m", "1100000000.5"},
            {"-a", "1200000000.25"},
            {"-m", null},
            {"-a", null},
            {"", "1300000000"},
            {"", null},
            {"-a -m", "1400000000.000000001"},
            {"-m", "1450000000.999999999"},
            {"-a", "1460000000.5"},
            {"-a -m", null},
            {"", "1470000000.7"},
        };
        String atime = null;
        String mtime = null;
        for (int i = 0; i < steps.length; i++) {
            String flags = steps[i][0];
            String t = steps[i][1];
            String cmd = ("touch " + flags + (t == null ? "" : " -d @" + t)).replace("  ", " ") + " u3";
            String what = "step " + i + " `" + cmd + "`";
            boolean a = flags.isEmpty() || flags.contains("-a");
            boolean m = flags.isEmpty() || flags.contains("-m");
            long ctimeBefore = ns(stat("%.9Z", "u3"));
            p.sh(cmd).ok();
            String[] shown = stat("%.9X %.9Y", "u3").split(" ");
            String exact = t == null ? null : new BigDecimal(t).setScale(9).toPlainString();
            if (a) {
                if (exact != null) {
                    assertEquals(exact, shown[0], what + ": atime");
                } else {
                    assertNearNow(what + ": atime", shown[0]);
                }
                atime = shown[0];
            } else if (atime != null) {
                assertEquals(atime, shown[0], what + ": atime must not change");
            }
            if (m) {
                if (exact != null) {
                    assertEquals(exact, shown[1], what + ": mtime");
                } else {
                    assertNearNow(what + ": mtime", shown[1]);
                }
                mtime = shown[1];
            } else if (mtime != null) {
                assertEquals(mtime, shown[1], what + ": mtime must not change");
            }
            assertTrue(ns(stat("%.9Z", "u3")) > ctimeBefore, what + ": ctime must move");
        }
        String u3 = atime + " " + mtime;

        // cp -p and tar -x bring a file's times along (tar --format=posix keeps nanoseconds).
        Sh.bash(host, "head -c 100000 /dev/urandom > old3 && touch -a -d @1111111111.111111111 old3 "
                + "&& touch -m -d @1222222222.222222222 old3 && head -c 70000 /dev/urandom > tarred3 "
                + "&& touch -d @1234567890.987654321 tarred3 && tar --format=posix -cf a3.tar tarred3").ok();
        Sh.bash(tmp, "cp -p host/old3 mnt/cp3 && tar -xf host/a3.tar -C mnt && cmp host/old3 mnt/cp3 "
                + "&& cmp host/tarred3 mnt/tarred3").ok();
        assertEquals("1111111111.111111111 1222222222.222222222", stat("%.9X %.9Y", "cp3"), "cp -p: atime mtime");
        assertEquals("1234567890.987654321", stat("%.9Y", "tarred3"), "tar -x: mtime");

        remount();
        assertEquals(u3, stat("%.9X %.9Y", "u3"), "after a remount: u3's atime mtime");
        assertEquals("1111111111.111111111 1222222222.222222222", stat("%.9X %.9Y", "cp3"),
                "after a remount: cp -p's atime mtime");
        assertEquals("1234567890.987654321", stat("%.9Y", "tarred3"), "after a remount: tar -x's mtime");
    }

    // ------------------------------------------------------------------------------------------------ 4. chown

    @Test
    @Order(4)
    void chownIsStoredKeptBySnapshotsAndClonesAndRefusedToANonOwner() throws Exception {
        p.sh("truncate -s 64k o4 && truncate -s 4k x4").ok();
        Sh.Result chown = p.sh("chown 1000:1000 o4");
        assertEquals(0, chown.code(), "root's chown 1000:1000: " + chown.out());
        assertEquals("1000:1000", stat("%u:%g", "o4"));
        p.sh("mkdir snapshots/c4 && ln o4 o4clone").ok();
        assertEquals("1000:1000", stat("%u:%g", "snapshots/c4/o4"), "a snapshot member keeps the owner");
        assertEquals("1000:1000", stat("%u:%g", "o4clone"), "a clone (ln) keeps the owner");

        // Host files owned by 1234 keep their owner through cp -a and rsync -a.
        Sh.bash(host, "head -c 5000 /dev/urandom > own4 && head -c 7000 /dev/urandom > own4r "
                + "&& chown 1234:1234 own4 own4r").ok();
        Sh.bash(tmp, "cp -a host/own4 mnt/ && rsync -a host/own4r mnt/ && cmp host/own4r mnt/own4r").ok();
        assertEquals("1234:1234", stat("%u:%g", "own4"), "cp -a keeps the owner");
        assertEquals("1234:1234", stat("%u:%g", "own4r"), "rsync -a keeps the owner");

        remount();
        for (String v : List.of("o4", "snapshots/c4/o4", "o4clone")) {
            assertEquals("1000:1000", stat("%u:%g", v), v + " after a remount");
        }
        assertEquals("1234:1234", stat("%u:%g", "own4"), "own4 after a remount");
        assertEquals("1234:1234", stat("%u:%g", "own4r"), "own4r after a remount");

        // The kernel decides who may (default_permissions): the owner chmods its volume, nobody else chowns.
        String as1000 = "setpriv --reuid=1000 --regid=1000 --clear-groups ";
        Sh.Result own = Sh.bash(tmp, as1000 + "chmod 600 mnt/o4");
        assertEquals(0, own.code(), "uid 1000 chmods its own volume: " + own.out());
        assertEquals("600 1000:1000", stat("%a %u:%g", "o4"));
        Sh.Result other = Sh.bash(tmp, as1000 + "chown 2000 mnt/x4");
        assertNotEquals(0, other.code(), "uid 1000 chowned root's x4: " + other.out());
        assertTrue(other.out().contains("Operation not permitted"), other.out());
        Sh.Result away = Sh.bash(tmp, as1000 + "chown 2000 mnt/o4");
        assertNotEquals(0, away.code(), "uid 1000 gave its o4 away: " + away.out());
        assertEquals("0:0", stat("%u:%g", "x4"));
        assertEquals("1000:1000", stat("%u:%g", "o4"));
    }

    // ------------------------------------------------------------------------------------------------ 5. snapshots

    @Test
    @Order(5)
    void snapshotMembersRefuseTouchChmodChownButCanBeRemoved() throws Exception {
        p.sh("truncate -s 64k s5 && chmod 600 s5 && touch -d @1000000000.5 s5 && mkdir snapshots/S5").ok();
        String fmt = "%a %u:%g %.9X %.9Y %.9Z";
        String before = stat(fmt, "snapshots/S5/s5");
        for (String cmd : List.of("touch -d @1500000000 snapshots/S5/s5", "touch -m -d @1500000000 snapshots/S5/s5",
                "touch -a -d @1500000000 snapshots/S5/s5", "touch snapshots/S5/s5", "chmod 644 snapshots/S5/s5",
                "chown 1000 snapshots/S5/s5", "chown 1000:1000 snapshots/S5/s5")) {
            Sh.Result r = p.sh(cmd);
            assertNotEquals(0, r.code(), "`" + cmd + "` succeeded on a snapshot member");
            assertTrue(r.out().contains("Read-only file system"), "`" + cmd + "`: " + r.out());
            assertEquals(before, stat(fmt, "snapshots/S5/s5"), "`" + cmd + "` changed the snapshot member");
        }
        assertEquals("1000000000.500000000", stat("%.9Y", "s5"), "the origin is untouched");
        p.sh("rm snapshots/S5/s5").ok();
        assertFalse(p.sh("ls snapshots/S5").ok().out().contains("s5"));
    }

    // ------------------------------------------------------------------------------------------------ 6. orphans

    @Test
    @Order(6)
    void aVolumeRemovedWhileOpenLeavesAtOnceAndIsFreedAtItsLastClose() throws Exception {
        p.sh("dd if=/dev/urandom of=disk bs=1M count=8 conv=fsync status=none").ok();
        long full = used();
        String loop = Sh.bash(tmp, "losetup --find --show mnt/disk").ok().out().trim();
        try {
            Sh.Result rm = p.sh("rm disk");
            assertEquals(0, rm.code(), "rm of a volume a loop device holds: " + rm.out());
            String ls = lsA();
            assertFalse(ls.contains(".fuse_hidden"), "rm of an open volume: ls -a shows " + ls);
            assertFalse(ls.lines().anyMatch("disk"::equals), ls);
            assertFalse(statusNames().contains("disk"), "thinfs status lists " + statusNames());
            p.sh("mkdir snapshots/x6").ok();
            String x6 = p.sh("ls -a snapshots/x6").ok().out();
            assertFalse(x6.contains("disk") || x6.contains(".fuse_hidden"), "snapshot x6 holds " + x6);
            assertTrue(used() >= full - MIB, "freed while still open: " + used() + " < " + full);
        } finally {
            Sh.run(tmp, List.of("losetup", "-d", loop));
        }
        awaitUsedAtMost(full - 8 * MIB, 10, "after losetup -d of the removed volume");

        // mv over an open volume: the one replaced goes the same way.
        p.sh("dd if=/dev/urandom of=disk bs=1M count=8 conv=fsync status=none && truncate -s 1M other").ok();
        full = used();
        Process holder = holdOpen("disk");
        try {
            Sh.Result mv = p.sh("mv other disk");
            assertEquals(0, mv.code(), "mv over an open volume: " + mv.out());
            String ls = lsA();
            assertFalse(ls.contains(".fuse_hidden"), "mv over an open volume: ls -a shows " + ls);
            assertFalse(ls.lines().anyMatch("other"::equals), ls);
            assertEquals(Long.toString(MIB), stat("%s", "disk"), "disk is the volume moved onto it");
            assertEquals(1, statusNames().stream().filter("disk"::equals).count(), "status: " + statusNames());
            assertTrue(used() >= full - MIB, "freed while still open: " + used() + " < " + full);
        } finally {
            end(holder);
        }
        awaitUsedAtMost(full - 8 * MIB, 10, "after the last close of the volume mv replaced");

        // Removed while open, then kill -9: the next mount frees it.
        p.sh("dd if=/dev/urandom of=disk2 bs=1M count=8 conv=fsync status=none").ok();
        full = used();
        holder = holdOpen("disk2");
        try {
            p.sh("rm disk2").ok();
            assertFalse(lsA().contains(".fuse_hidden"), "rm of an open volume: ls -a shows " + lsA());
            Thread.sleep(1500);                                   // a few commits (every 300 ms)
            p.kill9();
        } finally {
            end(holder);
        }
        mount();
        awaitUsedAtMost(full - 8 * MIB, 5, "the mount after a kill -9 with a removed volume still open");
        assertFalse(statusNames().contains("disk2"), "status: " + statusNames());
        assertFalse(lsA().contains(".fuse_hidden"), lsA());
        p.unmount();
        MountIT.assertCheckedAndNamed(p);
        mount();
    }

    /**
     * An open volume that is removed stays usable through what holds it open, as an unlinked file does. With
     * hard_remove libfuse2 passes no path for a node that lost its name unless flag_nullpath_ok is set; without it
     * every read, write, fstat and fsync of the orphan fails with ENOENT (a loop device over it reads EIO); now they
     * come with a null path and are served from the handle.
     */
    @Test
    @Order(7)
    void aVolumeRemovedWhileOpenStaysReadableAndWritableUntilItsLastClose() throws Exception {
        p.sh("dd if=/dev/urandom of=held7 bs=1M count=1 conv=fsync status=none").ok();
        String script = String.join("\n",
                "import os",
                "fd = os.open('held7', os.O_RDWR)",
                "os.unlink('held7')",
                "out = []",
                "for what, f in [('pread', lambda: len(os.pread(fd, 4096, 700000))),",
                "                ('pwrite', lambda: os.pwrite(fd, b'x' * 4096, 8192)),",
                "                ('fstat', lambda: os.fstat(fd).st_size), ('fsync', lambda: os.fsync(fd) or 0),",
                "                ('ftruncate', lambda: os.ftruncate(fd, 2 << 20) or os.fstat(fd).st_size),",
                "                ('nlink', lambda: os.fstat(fd).st_nlink)]:",
                "    try:",
                "        out.append(what + ' ' + str(f()))",
                "    except OSError as e:",
                "        out.append(what + ' ' + e.strerror)",
                "os.close(fd)",
                "print(', '.join(out))");
        Files.writeString(tmp.resolve("held7.py"), script);
        String out = p.sh("python3 " + tmp.resolve("held7.py")).ok().out().trim();
        assertEquals("pread 4096, pwrite 4096, fstat 1048576, fsync 0, ftruncate 2097152, nlink 0", out, "I/O on a removed, still open volume");
        assertFalse(lsA().contains("held7"), lsA());
    }

    /**
     * libfuse hides an open file in its own directory: a snapshot member held open and removed goes the same way as
     * a volume (the set can then be removed), and a uid past 2^31 is stored as given.
     */
    @Test
    @Order(8)
    void anOpenSnapshotMemberCanBeRemovedAndBigIdsAreKept() throws Exception {
        p.sh("dd if=/dev/urandom of=m8 bs=1M count=4 conv=fsync status=none").ok();
        p.thinfs("snapshot", p.pool.toString(), "s8", "m8").ok();        // a set of m8 alone, so it can be emptied
        Process holder = holdOpen("snapshots/s8/m8");
        try {
            Sh.Result rm = p.sh("rm snapshots/s8/m8 && rmdir snapshots/s8");
            assertEquals(0, rm.code(), "rm of an open snapshot member, then rmdir of its set: " + rm.out());
            assertFalse(lsA().contains(".fuse_hidden"), lsA());
            assertFalse(statusNames().stream().anyMatch(n -> n.startsWith("s8/")), statusNames().toString());
        } finally {
            end(holder);
        }
        p.sh("chown 3000000000:3000000001 m8").ok();
        assertEquals("3000000000:3000000001", p.sh("stat -c %u:%g m8").ok().out().trim());
        p.sh("rm m8").ok();
    }
}
