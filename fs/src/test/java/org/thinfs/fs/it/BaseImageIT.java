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
 * Volumes over a read-only base image (dm-thin's external origin), as a VM host uses them: a golden ext4 image,
 * two volumes over it and one over a read-only loop device of it. Each reads the image until written; a disk made
 * of one is loop-mounted, written and fsck-clean while the image and the other volumes stay as they were; NBD and
 * SEEK_DATA see the image as data; snapshots and clones keep it; discards read the image again (or zeros with
 * --origin-discard zero) and ZERO_RANGE reads zeros; a full export carries the image; thin_check is clean; and after
 * the image changes, the volumes over it refuse to open with one sentence while everything else works.
 */
class BaseImageIT {
    @TempDir
    Path tmp;

    @Test
    void volumesOverAGoldenImage() throws Exception {
        Sh.bash(tmp, "mkdir -p golden/etc && seq 1 200000 > golden/etc/numbers && echo golden > golden/etc/hostname"
                + " && mkfs.ext4 -q -F -d golden base.img 64M && sha256sum base.img > base.sha").ok();
        String loop = Sh.run(tmp, List.of("losetup", "-r", "-f", "--show", tmp.resolve("base.img").toString()))
                .ok().out().strip();
        Path sock = tmp.resolve("nbd.sock");
        MountedPool p = MountedPool.created(tmp, "1G");
        String pool = p.pool.toString();
        String base = tmp.resolve("base.img").toString();
        try {
            // Offline and through the daemon: the same request.
            p.thinfs("volume", "create", pool, "vm1", "--origin", base).ok();
            p.mount("--nbd", "unix:" + sock);
            p.thinfs("volume", "create", pool, "vm2", "--origin", base, "--origin-discard", "zero").ok();
            p.thinfs("volume", "create", pool, "big", "128M", "--origin", loop).ok();
            p.sh("cmp vm1 ../base.img && cmp vm2 ../base.img && cmp -n 64M big ../base.img"
                    + " && cmp -i 64M:0 -n 64M big /dev/zero").ok();
            assertEquals("0", p.thinfs("status", pool, "--json").ok().out().replaceAll("(?s).*\"dataBlocksUsed\" *: *(\\d+).*", "$1"),
                    "volumes over an image map nothing until written");

            // The disk of a VM: mounted, read, written, fsck-clean; the image and its other users unchanged.
            Path disk = tmp.resolve("disk");
            Files.createDirectories(disk);
            Sh.bash(tmp, "mount -o loop mnt/vm1 disk && grep -qx golden disk/etc/hostname"
                    + " && cmp disk/etc/numbers golden/etc/numbers && echo vm1 > disk/etc/hostname"
                    + " && dd if=/dev/urandom of=disk/new bs=1M count=4 status=none && umount disk").ok();
            Sh.bash(tmp, "e2fsck -fn mnt/vm1").ok();
            p.sh("! cmp -s vm1 ../base.img && cmp vm2 ../base.img").ok();
            Sh.bash(tmp, "sha256sum -c --quiet base.sha").ok();

            // NBD reads the image; SEEK_HOLE finds the first hole where the image ends.
            Sh.bash(tmp, "cmp base.img <(nbdcopy 'nbd+unix:///vm2?socket=" + sock + "' -)").ok();
            String map = Sh.bash(tmp, "nbdinfo --map 'nbd+unix:///big?socket=" + sock + "'").ok().out();
            assertTrue(map.lines().anyMatch(l -> l.matches("\\s*0\\s+67108864\\s+0\\s+data.*")), map);
            String hole = p.sh("python3 -c \"import os; f=os.open('big', os.O_RDONLY); "
                    + "print(os.lseek(f, 0, os.SEEK_HOLE), os.lseek(f, 0, os.SEEK_DATA))\"").ok().out().strip();
            assertEquals("67108864 0", hole);

            // Snapshots and clones keep the image.
            p.sh("mkdir snapshots/s1 && ln snapshots/s1/vm1 vm1c && cmp vm1c vm1 && cmp snapshots/s1/vm2 ../base.img"
                    + " && dd if=/dev/urandom of=vm1c bs=4k count=1 seek=3000 conv=notrunc,fsync status=none"
                    + " && cmp snapshots/s1/vm1 vm1 && ! cmp -s vm1c vm1").ok();

            // Discards read the image again (vm1) or zeros (vm2); ZERO_RANGE always zeros.
            p.sh("dd if=/dev/urandom of=vm1 bs=1M count=2 seek=10 conv=notrunc,fsync status=none"
                    + " && fallocate -p -o 10M -l 2M vm1 && cmp -i 10M:10M -n 2M vm1 ../base.img"
                    + " && fallocate -p -o 10M -l 2M vm2 && cmp -i 10M:0 -n 2M vm2 /dev/zero"
                    + " && cmp -n 10M vm2 ../base.img"
                    + " && fallocate -z -o 20M -l 1M vm1 && cmp -i 20M:0 -n 1M vm1 /dev/zero").ok();

            // A full export is the whole disk: imported into a plain volume it reads the same.
            p.sh("truncate -s 64M plain").ok();
            Sh.Result listed = p.thinfs("list", pool, "--json").ok();
            assertTrue(listed.out().contains("\"path\":\"" + base + "\""), listed.out());
            p.unmount();
            p.thinfs("export-diff", pool, "-", "vm2", tmp.resolve("vm2.diff").toString()).ok();
            p.thinfs("import-diff", pool, "plain", tmp.resolve("vm2.diff").toString()).ok();
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
            p.mount();
            p.sh("cmp plain vm2 && cmp snapshots/s1/vm2 ../base.img && cmp -n 64M big ../base.img").ok();
            p.unmount();

            // The image changes: its volumes refuse to open, with the reason; the rest works; delete still works.
            Sh.bash(tmp, "touch base.img").ok();
            p.mount();
            Sh.Result refused = p.sh("cat vm2 > /dev/null");
            assertNotEquals(0, refused.code());
            assertTrue(refused.out().contains("Input/output error"), refused.out());
            String list = p.thinfs("list", pool).ok().out();
            assertTrue(list.contains("unusable: base image " + base + " was modified"), list);
            String status = p.thinfs("status", pool).ok().out();
            assertTrue(status.contains("volume vm2 cannot be opened: base image " + base + " was modified"), status);
            p.sh("cmp -n 64M big ../base.img && rm vm2").ok();
            Sh.Result log = Sh.bash(tmp, "test -f pool/thinfs.log && (grep -c Exception pool/thinfs.log || true)").ok();
            assertEquals("0", log.out().strip(), "a stack trace in the log");
        } finally {
            p.close();
            Sh.run(tmp, List.of("umount", tmp.resolve("disk").toString()));
            Sh.run(tmp, List.of("losetup", "-d", loop));
        }
    }
}
