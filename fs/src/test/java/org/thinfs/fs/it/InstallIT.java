package org.thinfs.fs.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code thinfs install} as an administrator uses it: into a prefix, then mount(8) with {@code -t fuse.thinfs} and
 * an fstab line through the installed helper (which has to be in /sbin: the only place mount(8) looks), man pages
 * rendered by man, completion loaded by bash, the unit checked by systemd-analyze, and uninstall leaving the prefix
 * as it was.
 */
class InstallIT {
    private static final Path HELPER = Path.of("/sbin/mount.fuse.thinfs");

    @TempDir
    Path tmp;

    private Path prefix;
    private Path mnt;

    @AfterEach
    void cleanUp() throws Exception {
        if (mnt != null && Files.readString(Path.of("/proc/mounts")).contains(" " + mnt + " ")) {
            Sh.run(tmp, List.of("umount", "-l", mnt.toString()));
        }
        if (prefix != null && Files.exists(prefix.resolve("lib/thinfs/install-manifest"))) {
            run(List.of("java", "-jar", MountedPool.JAR.toString(), "uninstall", "--prefix", prefix.toString()));
        }
    }

    @Test
    void installMountThroughMount8AndFstabThenUninstallExactly() throws Exception {
        dropHelperOfAnEarlierRun();
        prefix = Files.createDirectories(tmp.resolve("prefix"));
        mnt = Files.createDirectories(tmp.resolve("mnt"));
        Path pool = tmp.resolve("pool");

        String out = thinfs("install", "--prefix", prefix.toString()).ok().out();
        assertTrue(out.contains("wrote " + prefix.resolve("bin/thinfs")), out);
        assertTrue(out.contains("wrote " + HELPER), out);
        String again = thinfs("install", "--prefix", prefix.toString()).ok().out();
        assertFalse(again.contains("wrote "), "a second install changes nothing: " + again);

        Path installed = prefix.resolve("bin/thinfs");
        run(List.of(installed.toString(), "create", pool.toString(), "--size", "256M")).ok();

        // mount -t fuse.thinfs, a plain thinfs setting among mount(8)'s and FUSE's options
        run(List.of("mount", "-t", "fuse.thinfs", pool.toString(), mnt.toString(), "-o",
                "defaults,noatime,fuse-threads=3,_netdev")).ok();
        assertTrue(mounted(), "mount -t fuse.thinfs mounted the pool");
        assertTrue(daemonCommandLine(pool).contains("--fuse-threads 3"), daemonCommandLine(pool));
        Sh.bash(mnt, "truncate -s 16M vol && printf installed | dd of=vol conv=notrunc status=none").ok();
        long pid = Long.parseLong(Files.readString(pool.resolve("thinfs.pid")).trim());
        run(List.of("umount", mnt.toString())).ok();
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
        assertEquals(0, ThinTools.check(pool.resolve("metadata")).exitCode(), "thin_check after umount");

        // an fstab line: x-thinfs.NAME settings (which mount(8) keeps from helpers) come back from the file
        Path fstab = tmp.resolve("fstab");
        Files.writeString(fstab, "# test fstab\n" + pool + " " + mnt + " fuse.thinfs "
                + "defaults,x-systemd.requires-mounts-for=" + tmp + ",x-thinfs.commit-interval=300ms,fuse-threads=5 0 0\n");
        mountFstab(fstab).ok();
        assertTrue(mounted(), "mount --fstab mounted the pool");
        String cmd = daemonCommandLine(pool);
        assertTrue(cmd.contains("--commit-interval 300ms") && cmd.contains("--fuse-threads 5"), cmd);
        assertEquals("installed", Sh.bash(mnt, "head -c 9 vol").ok().out());
        run(List.of(installed.toString(), "umount", mnt.toString())).ok();

        // unknown options fail the mount with a sentence, whichever way they are spelled
        Files.writeString(fstab, pool + " " + mnt + " fuse.thinfs defaults,x-thinfs.frobnicate=1 0 0\n");
        Sh.Result bad = mountFstab(fstab);
        assertNotEquals(0, bad.code());
        assertTrue(bad.out().contains("unknown thinfs mount option 'x-thinfs.frobnicate=1'"), bad.out());
        bad = run(List.of("mount", "-t", "fuse.thinfs", pool.toString(), mnt.toString(), "-o", "frobnicate"));
        assertNotEquals(0, bad.code());
        assertTrue(bad.out().contains("unknown mount option 'frobnicate'"), bad.out());
        assertFalse(mounted(), "nothing is mounted after a refused option");

        // man pages: one per command, rendered by man(1), found through the prefix's manpath
        Path man1 = prefix.resolve("share/man/man1");
        for (String page : List.of("thinfs", "thinfs-mount", "thinfs-install", "thinfs-uninstall", "thinfs-status")) {
            assertTrue(Files.isRegularFile(man1.resolve(page + ".1")), page);
        }
        String rendered = Sh.bash(tmp, "MANWIDTH=100 man -l " + man1.resolve("thinfs-mount.1") + " | col -b").ok().out();
        assertTrue(rendered.contains("thinfs-mount") && rendered.contains("--commit-interval"), rendered);
        assertEquals(man1.resolve("thinfs-mount.1").toString(),
                Sh.bash(tmp, "MANPATH=" + prefix.resolve("share/man") + " man -w thinfs-mount").ok().out().trim());

        // bash completion: the script loads and completes subcommands and options
        Path completion = prefix.resolve("share/bash-completion/completions/thinfs");
        String completes = Sh.bash(tmp, "source " + completion + " && f=$(complete -p thinfs | sed -E 's/.*-F ([^ ]+).*/\\1/')"
                + " && COMP_WORDS=(thinfs mo) COMP_CWORD=1 && $f 2>/dev/null; echo \"${COMPREPLY[*]}\";"
                + " COMP_WORDS=(thinfs mount --commit) COMP_CWORD=2 && $f 2>/dev/null; echo \"${COMPREPLY[*]}\"").ok().out();
        assertEquals("mount\n--commit-interval\n", completes);

        // the systemd template unit, where systemd is here to judge it
        Path unit = prefix.resolve("lib/systemd/system/thinfs@.service");
        assertTrue(Files.isRegularFile(unit));
        if (Sh.bash(tmp, "command -v systemd-analyze").code() == 0) {
            Sh.bash(tmp, "MANPATH=" + prefix.resolve("share/man") + " systemd-analyze verify " + unit).ok();
        }

        // no systemd runs here as PID 1, so run the unit's own ExecStart and ExecStop lines with its environment
        // as systemd would set it from /etc/thinfs/NAME.conf (here a file in tmp), one word per ${VAR}
        Path conf = tmp.resolve("vms.conf");
        Files.writeString(conf, "POOL=" + pool + "\nMOUNTPOINT=" + mnt + "\nOPTIONS=commit-interval=400ms\n");
        for (String key : List.of("ExecStart=", "ExecStop=")) {
            String line = Files.readAllLines(unit).stream().filter(l -> l.startsWith(key)).findFirst().orElseThrow();
            String command = line.substring(key.length()).replaceAll("\\$\\{(\\w+)\\}", "\"\\$$1\"");
            Sh.bash(tmp, "set -a; . " + conf + "; set +a; " + command).ok();
            if (key.equals("ExecStart=")) {
                assertTrue(mounted(), "the unit's ExecStart mounted the pool");
                assertTrue(daemonCommandLine(pool).contains("--commit-interval 400ms"), daemonCommandLine(pool));
            }
        }
        assertFalse(mounted(), "the unit's ExecStop unmounted the pool");

        out = run(List.of(installed.toString(), "uninstall", "--prefix", prefix.toString())).ok().out();
        assertTrue(out.contains("removed " + HELPER), out);
        assertEquals(List.of(), tree(prefix), "uninstall leaves the prefix as it found it");
        assertFalse(Files.exists(HELPER), "the mount helper is gone");
    }

    @Test
    void refusesFilesItDidNotWriteAndKeepsFilesChangedSince() throws Exception {
        Path other = Files.createDirectories(tmp.resolve("other/bin"));
        Files.writeString(other.resolve("thinfs"), "#!/bin/sh\necho mine\n");
        Path otherPrefix = other.getParent();
        Sh.Result r = thinfs("install", "--prefix", otherPrefix.toString(), "--sbin-dir", tmp.resolve("s1").toString());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.out().contains("refusing to overwrite " + other.resolve("thinfs")), r.out());
        assertEquals(List.of("bin", "bin/thinfs"), tree(otherPrefix), "a refused install writes nothing");
        assertEquals("#!/bin/sh\necho mine\n", Files.readString(other.resolve("thinfs")));

        Path p = tmp.resolve("p2");
        thinfs("install", "--prefix", p.toString(), "--sbin-dir", p.resolve("sbin").toString()).ok();
        Path unit = p.resolve("lib/systemd/system/thinfs@.service");
        Files.writeString(unit, Files.readString(unit) + "# local change\n");
        r = thinfs("install", "--prefix", p.toString(), "--sbin-dir", p.resolve("sbin").toString());
        assertEquals(1, r.code(), "an install does not overwrite a file changed since: " + r.out());
        String out = thinfs("uninstall", "--prefix", p.toString()).ok().out();
        assertTrue(out.contains("kept " + unit), out);
        assertEquals(List.of("lib", "lib/systemd", "lib/systemd/system", "lib/systemd/system/thinfs@.service"), tree(p));
    }

    /** A helper left in /sbin by an earlier run of this test that was killed; anything else there is not ours. */
    private static void dropHelperOfAnEarlierRun() throws IOException {
        if (Files.exists(HELPER) && Files.readString(HELPER).contains("Installed by 'thinfs install --prefix /tmp/")) {
            Files.delete(HELPER);
        }
    }

    private boolean mounted() throws IOException {
        return Files.readString(Path.of("/proc/mounts")).contains(" " + mnt + " ");
    }

    private Sh.Result mountFstab(Path fstab) throws Exception {
        // mount(8) hands its environment to the helper: THINFS_FSTAB says which file the line came from
        return run(List.of("env", "THINFS_FSTAB=" + fstab, "mount", "--fstab", fstab.toString(), mnt.toString()));
    }

    private static String daemonCommandLine(Path pool) throws IOException {
        long pid = Long.parseLong(Files.readString(pool.resolve("thinfs.pid")).trim());
        return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
    }

    private Sh.Result thinfs(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", MountedPool.JAR.toString()));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private Sh.Result run(List<String> cmd) throws Exception {
        return Sh.run(tmp, cmd);
    }

    /** Every path under {@code dir}, relative and sorted. */
    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(x -> !x.equals(dir)).map(x -> dir.relativize(x).toString())
                    .collect(java.util.stream.Collectors.toCollection(TreeSet::new)).stream().toList();
        }
    }
}
