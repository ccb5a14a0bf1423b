package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a user meets after a daemon dies, and how status names the way a pool is served: a dead mount of the same
 * pool is cleared by the next mount, another one is named with the command that clears it, a missing mount point
 * is called missing; status says the daemon is gone, and "mounted on", "served over NBD at" and read-only; the
 * small namespace answers (symlink EPERM, df -i) and thinfs up's hints.
 */
class DeadMountIT {
    @TempDir
    Path tmp;

    @Test
    void aDeadMountIsNamedAndClearedByTheNextMount() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.sh("truncate -s 1M vm && echo hello > vm").ok();
            assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("(mounted on " + p.mnt + "; live)"));
            long pid = p.daemonPid();
            Sh.run(tmp, List.of("kill", "-9", Long.toString(pid))).ok();
            ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());

            String status = p.thinfs("status", p.pool.toString()).ok().out();
            assertTrue(status.contains("its daemon is gone and left a dead mount on " + p.mnt), status);
            Sh.Result again = p.thinfs("mount", p.pool.toString(), p.mnt.toString());
            assertEquals(0, again.code(), again.out());
            assertTrue(again.out().contains("cleared the dead mount"), again.out());
            assertEquals("hello", p.sh("head -c 5 vm").ok().out());

            // Another pool's mount point that died: named with the command, not taken over.
            Path other = Files.createDirectories(tmp.resolve("other"));
            try (MountedPool o = new MountedPool(other, "64M")) {
                long opid = o.daemonPid();
                Sh.run(tmp, List.of("kill", "-9", Long.toString(opid))).ok();
                ProcessHandle.of(opid).ifPresent(h -> h.onExit().join());
                p.unmount();
                Sh.Result refused = p.thinfs("mount", p.pool.toString(), o.mnt.toString());
                assertEquals(2, refused.code(), refused.out());
                assertTrue(refused.out().contains("is a dead FUSE mount of thinfs:" + o.pool)
                        && refused.out().contains("fusermount -u -z " + o.mnt), refused.out());
                o.afterKill(opid);
            }
            Sh.Result missing = p.thinfs("mount", p.pool.toString(), tmp.resolve("nope").toString());
            assertEquals(2, missing.code());
            assertTrue(missing.out().contains("does not exist"), missing.out());
        }
    }

    @Test
    void statusSaysHowThePoolIsServed() throws Exception {
        try (MountedPool p = MountedPool.created(tmp, "256M")) {
            p.mount("-o", "ro");
            String ro = p.thinfs("status", p.pool.toString()).ok().out();
            assertTrue(ro.contains("(mounted on " + p.mnt + "; live, read-only)"), ro);
            p.unmount();

            Path sock = tmp.resolve("nbd.sock");
            p.thinfs("serve", p.pool.toString(), "--nbd", "unix:" + sock).ok();
            try {
                String nbd = p.thinfs("status", p.pool.toString()).ok().out();
                assertTrue(nbd.contains("(served over NBD at unix:" + sock + "; live)"), nbd);
            } finally {
                p.thinfs("umount", p.pool.toString()).ok();
            }

            p.mount();
            Sh.Result symlink = p.sh("ln -s a b");
            assertTrue(symlink.code() != 0 && symlink.out().contains("Operation not permitted"), symlink.out());
            p.sh("truncate -s 1M v1 v2 && mkdir snapshots/s").ok();
            String inodes = p.sh("df --output=itotal,iused . | tail -1").ok().out().trim();
            assertEquals(List.of("16777216", "4"), List.of(inodes.split("\\s+")), "device ids as inodes: " + inodes);
        }
    }

    @Test
    void upNamesTheLauncherThatWorksFromHere() throws Exception {
        Path launcher = Path.of("../thinfs").toAbsolutePath().normalize();
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        Sh.Result up = Sh.run(elsewhere, List.of("java", "-jar", MountedPool.JAR.toString(), "up"),
                Map.of("THINFS_LAUNCHER", launcher.toString()));
        try {
            assertEquals(0, up.code(), up.out());
            assertTrue(up.out().contains(launcher + " status pool") && up.out().contains(launcher + " umount mnt"),
                    up.out());
            assertTrue(!up.out().contains("./thinfs"), up.out());
        } finally {
            Sh.run(elsewhere, List.of("java", "-jar", MountedPool.JAR.toString(), "umount", "mnt"));
        }
    }
}
