package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pool on two block devices (loop devices on the host), as dm-thin pools are: created, mounted, written,
 * snapshotted, served over NBD, checked by the real thin_check on the metadata device, remounted; grown with its
 * data device; activated by the kernel's dm-thin (QEMU, kernel-check.sh), which reads the volume's bytes; and
 * claimed exclusively: while mounted, a second thinfs, mount(8) and mkfs are refused; a pool whose
 * device another process holds is refused, and that refusal changes no byte of either device.
 */
class DevicePoolIT {
    @TempDir
    Path tmp;

    private String losetup(Path img) throws Exception {
        return Sh.run(tmp, List.of("losetup", "-f", "--show", img.toString())).ok().out().strip();
    }

    @Test
    void aPoolOnBlockDevicesIsFullFeaturedAndClaimedExclusively() throws Exception {
        Sh.bash(tmp, "truncate -s 64M meta.img && truncate -s 256M data.img").ok();
        String meta = losetup(tmp.resolve("meta.img"));
        String data = losetup(tmp.resolve("data.img"));
        MountedPool p = MountedPool.created(tmp, "1G");            // a file pool's paths, for its helpers
        try {
            Sh.run(tmp, List.of("rm", "-rf", p.pool.toString())).ok();
            p.thinfs("create", p.pool.toString(), "--metadata-device", meta, "--data-device", data).ok();
            assertTrue(Files.isRegularFile(p.pool.resolve("devices.json")));
            assertTrue(!Files.exists(p.pool.resolve("data")), "no data file beside the devices");
            Path sock = tmp.resolve("nbd.sock");
            p.mount("--nbd", "unix:" + sock);
            p.sh("truncate -s 64M vm && dd if=/dev/urandom of=vm bs=1M count=8 conv=notrunc,fsync status=none "
                    + "&& mkdir snapshots/s1 && cp vm ../vm.copy").ok();
            Sh.bash(tmp, "cmp vm.copy <(nbdcopy 'nbd+unix:///vm?socket=" + sock + "' - | head -c 64M)").ok();
            assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("8.0 MiB used of 256.0 MiB"));

            // Claimed while mounted: a second thinfs, mount(8), mkfs.
            Files.createDirectories(tmp.resolve("mnt2"));
            Sh.Result second = p.thinfs("mount", p.pool.toString(), tmp.resolve("mnt2").toString());
            assertNotEquals(0, second.code(), second.out());
            Sh.Result mount = Sh.run(tmp, List.of("mount", data, tmp.resolve("mnt2").toString()));
            assertNotEquals(0, mount.code(), mount.out());
            Sh.Result mkfs = Sh.run(tmp, List.of("mkfs.ext4", "-q", data));
            assertNotEquals(0, mkfs.code(), mkfs.out());
            p.unmount();

            assertEquals(0, ThinTools.check(Path.of(meta)).exitCode(), "thin_check " + meta);
            // Another process holds the data device: the pool is refused, and neither device changes.
            String before = Sh.run(tmp, List.of("sha256sum", meta, data)).ok().out();
            Process holder = new ProcessBuilder("python3", "-c", "import os,time,sys; fd=os.open('" + data
                    + "', os.O_RDONLY|os.O_EXCL); print('held', flush=True); time.sleep(30)").start();
            assertEquals("held", new String(holder.getInputStream().readNBytes(4)));
            try {
                Sh.Result refused = p.thinfs("mount", p.pool.toString(), p.mnt.toString(), "--commit-interval", "1s");
                assertNotEquals(0, refused.code(), refused.out());
                assertTrue(refused.out().contains("is in use") && refused.out().contains("touched nothing"),
                        refused.out());
                Sh.Result snap = p.thinfs("volume", "create", p.pool.toString(), "other", "1M");
                assertNotEquals(0, snap.code(), snap.out());
            } finally {
                holder.destroyForcibly().waitFor();
            }
            assertEquals(before, Sh.run(tmp, List.of("sha256sum", meta, data)).ok().out(), "a refusal wrote");

            // Grown with its device: resize picks the new size up; past the device it is refused.
            p.thinfs("create", tmp.resolve("filepool").toString(), "--size", "64M").ok();
            Sh.Result file = p.thinfs("mount", tmp.resolve("filepool").toString(), p.mnt.toString(), "--direct");
            assertNotEquals(0, file.code());
            assertTrue(file.out().contains("direct I/O is for pools on block devices"), file.out());
            Sh.Result past = p.thinfs("resize", p.pool.toString(), "--data", "512M");
            assertNotEquals(0, past.code());
            assertTrue(past.out().contains("grow the device first"), past.out());
            Sh.bash(tmp, "truncate -s 512M data.img && losetup -c " + data).ok();
            p.thinfs("resize", p.pool.toString(), "--data", "512M").ok();
            // Remounted with O_DIRECT on the data device (as an fstab line would ask for it).
            p.mount("-o", "x-thinfs.direct");
            assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("of 512.0 MiB"));
            p.sh("cmp vm ../vm.copy && cmp snapshots/s1/vm ../vm.copy").ok();
            String flags = Sh.bash(tmp, "for f in /proc/" + p.daemonPid() + "/fd/*; do [ \"$(readlink $f)\" = "
                    + data + " ] && grep flags /proc/" + p.daemonPid() + "/fdinfo/${f##*/}; done; true").ok().out();
            assertTrue(flags.lines().anyMatch(l -> (Integer.parseInt(l.replaceAll("\\D", ""), 8) & 040000) != 0),
                    "the data device is open with O_DIRECT: " + flags);
            p.sh("dd if=/dev/urandom of=vm bs=4k count=3 seek=5 conv=notrunc,fsync status=none && cp vm ../vm.copy2"
                    + " && echo 3 > /proc/sys/vm/drop_caches && cmp vm ../vm.copy2").ok();
            String id = p.thinfs("list", p.pool.toString(), "--json").ok().out()
                    .replaceAll("(?s).*?\\{\"name\":\"vm\",\"id\":(\\d+),.*", "$1");   // the volume, listed first
            p.unmount();
            assertEquals(0, ThinTools.check(Path.of(meta)).exitCode());

            // The kernel activates the pool thinfs made on the two devices (their contents, as the guest's disks)
            // and reads the volume's bytes.
            Sh.Result kernel = Sh.run(tmp, List.of("bash",
                    org.thinfs.core.testing.TestVectors.kernelCheckScript().toString(),
                    tmp.resolve("meta.img").toString(), tmp.resolve("data.img").toString(), "128",
                    id + ":" + (64 << 20) / 512));
            String sha = Sh.run(tmp, List.of("sha256sum", "vm.copy2")).ok().out().split(" ")[0];
            assertTrue(kernel.out().contains("RESULT ok") && kernel.out().contains("DEV " + id + " " + sha),
                    kernel.out());

            // The data device's name now stands for another file (as loop numbers after a reboot): refused, with
            // the remedy; attached again, the pool opens.
            Sh.bash(tmp, "truncate -s 512M other.img && losetup -d " + data + " && losetup " + data + " other.img")
                    .ok();
            Sh.Result moved = p.thinfs("status", p.pool.toString());
            assertNotEquals(0, moved.code());
            assertTrue(moved.out().contains("is backed by " + tmp.resolve("other.img") + ", not by "
                    + tmp.resolve("data.img")), moved.out());
            Sh.bash(tmp, "losetup -d " + data + " && losetup " + data + " data.img").ok();
            assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("of 512.0 MiB"));
        } finally {
            p.close();
            Sh.run(tmp, List.of("losetup", "-d", meta));
            Sh.run(tmp, List.of("losetup", "-d", data));
        }
    }

    @Test
    void adoptNamesEveryThinDeviceOfAPoolMadeElsewhere() throws Exception {
        Sh.bash(tmp, "truncate -s 16M meta.img && truncate -s 128M data.img").ok();
        String meta = losetup(tmp.resolve("meta.img"));
        String data = losetup(tmp.resolve("data.img"));
        MountedPool p = MountedPool.created(tmp, "1G");
        try {
            // A pool whose thinfs directory is gone stands for one the kernel or LVM made: metadata and data only.
            Sh.run(tmp, List.of("rm", "-rf", p.pool.toString())).ok();
            p.thinfs("create", p.pool.toString(), "--metadata-device", meta, "--data-device", data).ok();
            p.mount();
            p.sh("truncate -s 8M a && dd if=/dev/urandom of=a bs=1M count=8 conv=notrunc,fsync status=none "
                    + "&& cp a ../a.copy").ok();
            p.unmount();
            Sh.run(tmp, List.of("rm", "-rf", p.pool.toString())).ok();
            Sh.Result wrong = p.thinfs("adopt", p.pool.toString(), "--metadata", data, "--data", meta);
            assertNotEquals(0, wrong.code(), wrong.out());
            assertTrue(!Files.exists(p.pool.resolve("devices.json")), "a refused adopt left devices.json");
            String out = p.thinfs("adopt", p.pool.toString(), "--metadata", meta, "--data", data).ok().out();
            assertTrue(out.contains("1 volume (dev-1)"), out);
            p.mount();
            p.sh("cmp dev-1 ../a.copy && mv dev-1 a").ok();
            p.unmount();
            assertEquals(0, ThinTools.check(Path.of(meta)).exitCode());
        } finally {
            p.close();
            Sh.run(tmp, List.of("losetup", "-d", meta));
            Sh.run(tmp, List.of("losetup", "-d", data));
        }
    }
}
