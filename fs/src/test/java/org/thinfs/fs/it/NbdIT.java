package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The NBD export through real clients: qemu-img convert/compare/map, nbdinfo, nbdcopy with several connections,
 * qemu-io discard and write-zeroes, a read-only snapshot export, the FUSE file and the export of one volume seeing
 * the same bytes, and a fuzz of the handshake and of requests that leaves every other volume as it was.
 */
class NbdIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private MountedPool mounted() throws Exception {
        MountedPool p = MountedPool.created(tmp, "1G");
        p.mount("--nbd", "unix:" + tmp.resolve("nbd.sock"));
        return p;
    }

    private String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + tmp.resolve("nbd.sock");
    }

    private static long provisioned(MountedPool p, String volume) throws Exception {
        JsonNode st = JSON.readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
        for (JsonNode v : st.get("volumes")) {
            if (v.get("name").asText().equals(volume)) {
                return v.get("mappedBlocks").asLong();
            }
        }
        throw new AssertionError("no volume " + volume + " in " + st);
    }

    @Test
    void qemuImgConvertsInAndOutAndMapsExactlyTheMappedBlocks() throws Exception {
        try (MountedPool p = mounted()) {
            Path src = tmp.resolve("src.qcow2");
            Sh.run(tmp, java.util.List.of("qemu-img", "create", "-f", "qcow2", src.toString(), "64M")).ok();
            Sh.bash(tmp, "qemu-io -f qcow2 -c 'write -P 0xab 1M 3M' -c 'write -P 0xcd 40M 64k' " + src).ok();
            p.sh("truncate -s 64M vm1").ok();
            Sh.bash(tmp, "qemu-img convert -n -f qcow2 -O raw " + src + " '" + uri("vm1") + "'").ok();
            Sh.bash(tmp, "qemu-img compare -f qcow2 -F raw " + src + " '" + uri("vm1") + "'").ok();
            assertEquals((3 << 20) / 65536 + 1, provisioned(p, "vm1"), "only the written blocks are mapped");
            String map = Sh.bash(tmp, "nbdinfo --map '" + uri("vm1") + "'").ok().out();
            assertEquals(String.join("\n",
                    "         0     1048576    3  hole,zero",
                    "   1048576     3145728    0  data",
                    "   4194304    37748736    3  hole,zero",
                    "  41943040       65536    0  data",
                    "  42008576    25100288    3  hole,zero"), map.stripTrailing());
            String qmap = Sh.bash(tmp, "qemu-img map -f raw --output=json '" + uri("vm1") + "'").ok().out();
            assertEquals(2, qmap.split("\"data\": true").length - 1, qmap);
            // and back out: the FUSE file, the export and the qcow2 agree
            Sh.bash(tmp, "qemu-img convert -f raw -O qcow2 '" + uri("vm1") + "' back.qcow2 && "
                    + "qemu-img compare back.qcow2 " + src + " && cmp " + p.mnt.resolve("vm1")
                    + " <(nbdcopy '" + uri("vm1") + "' -)").ok();
            String list = Sh.bash(tmp, "nbdinfo --list --json '" + uri("") + "'").ok().out();
            assertTrue(list.contains("\"export-name\": \"vm1\""), list);
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    @Test
    void nbdcopyWithSeveralConnectionsCopiesExactlyAndDiscardFreesBlocks() throws Exception {
        try (MountedPool p = mounted()) {
            p.sh("truncate -s 128M a b && dd if=/dev/urandom of=a bs=1M count=20 seek=7 conv=notrunc,fsync "
                    + "status=none").ok();
            Sh.bash(tmp, "nbdcopy --connections=4 --requests=8 '" + uri("a") + "' '" + uri("b") + "'").ok();
            p.sh("cmp a b").ok();
            assertEquals(provisioned(p, "a"), provisioned(p, "b"), "holes stay holes");
            // discard and write-zeroes through qemu-io: zeros read back and the blocks are freed
            Sh.bash(tmp, "qemu-io -f raw -c 'discard 8M 4M' -c 'write -z -u 16M 4M' '" + uri("b") + "'").ok();
            p.sh("cmp <(head -c 4M /dev/zero) <(dd if=b bs=1M skip=8 count=4 status=none)").ok();
            p.sh("cmp <(head -c 4M /dev/zero) <(dd if=b bs=1M skip=16 count=4 status=none)").ok();
            assertEquals(provisioned(p, "a") - 8 * 16, provisioned(p, "b"), "8 MiB of blocks unmapped");
            // write-zeroes without unmap (NO_HOLE) writes zeros as data
            long before = provisioned(p, "b");
            Sh.bash(tmp, "qemu-io -f raw -c 'write -z 96M 1M' '" + uri("b") + "'").ok();
            assertEquals(before + 16, provisioned(p, "b"));
            p.sh("cmp <(head -c 1M /dev/zero) <(dd if=b bs=1M skip=96 count=1 status=none)").ok();
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    @Test
    void fioReadsBackWhatItWroteAtDepthOneAndEight() throws Exception {
        // At depth 1 the thread that read a request keeps the connection's reading turn while it handles it
        // (NbdTransmission#keepsTurn); at depth 8 the turn passes on, and fio's queue filling and draining moves a
        // connection between the two. Every block written must read back (fio's checksums, verify_fatal).
        try (MountedPool p = mounted()) {
            p.sh("truncate -s 32M f").ok();
            for (int depth : new int[] {1, 8}) {
                String bs = depth == 1 ? "4k" : "64k";
                Sh.bash(tmp, "fio --name=v --ioengine=nbd --uri='" + uri("f") + "' --rw=randwrite --bs=" + bs
                        + " --iodepth=" + depth + " --size=32M --io_size=8M --verify=crc32c --verify_fatal=1"
                        + " --do_verify=1 --randseed=" + depth + " --output=/dev/null").ok();
            }
            Sh.bash(tmp, "qemu-io -f raw -c 'flush' '" + uri("f") + "'").ok();
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    @Test
    void aSnapshotExportRefusesWritesAndFuseAndNbdSeeTheSameBytes() throws Exception {
        try (MountedPool p = mounted()) {
            p.sh("truncate -s 32M v && dd if=/dev/urandom of=v bs=64k count=50 conv=notrunc status=none "
                    + "&& mkdir snapshots/s").ok();
            Sh.Result w = Sh.bash(tmp, "qemu-io -f raw -c 'write 0 64k' '" + uri("snapshots/s/v") + "'");
            assertTrue(w.out().contains("read-only") || w.out().contains("ermission") || w.code() != 0, w.out());
            Sh.bash(tmp, "cmp " + p.mnt.resolve("snapshots/s/v") + " <(nbdcopy '" + uri("snapshots/s/v") + "' -)")
                    .ok();
            // concurrent writers on both sides, to different blocks, then one view
            Process fuse = new ProcessBuilder("bash", "-c", "for i in $(seq 0 39); do dd if=/dev/urandom of=" + p.mnt
                    .resolve("v") + " bs=64k count=1 seek=$((i*2)) conv=notrunc status=none; done").start();
            Sh.bash(tmp, "for i in $(seq 0 39); do qemu-io -f raw -c \"write -P $((i+1)) $(( (i*2+1)*65536 )) 64k\" '"
                    + uri("v") + "' >/dev/null || exit 1; done").ok();
            assertEquals(0, fuse.waitFor());
            Sh.bash(tmp, "cmp " + p.mnt.resolve("v") + " <(nbdcopy '" + uri("v") + "' -)").ok();
        }
    }

    @Test
    void garbageHandshakesAndRequestsChangeNothing() throws Exception {
        try (MountedPool p = mounted()) {
            p.sh("truncate -s 16M keep victim && dd if=/dev/urandom of=keep bs=64k count=20 conv=notrunc "
                    + "status=none").ok();
            String sum = p.sh("sha256sum < keep").ok().out();
            Random rnd = new Random(7);
            for (int round = 0; round < 60; round++) {
                try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    c.connect(UnixDomainSocketAddress.of(tmp.resolve("nbd.sock")));
                    c.read(ByteBuffer.allocate(18));
                    byte[] junk = new byte[1 + rnd.nextInt(400)];
                    rnd.nextBytes(junk);
                    if (round % 3 == 0) {
                        // a proper start, then a garbage option or request stream
                        ByteBuffer b = ByteBuffer.allocate(4 + 16 + 4 + 6 + 2);
                        b.putInt(3).putLong(0x49484156454F5054L).putInt(7).putInt(12).putInt(6)
                                .put("victim".getBytes()).putShort((short) 0);
                        c.write(b.flip());
                        ByteBuffer ack = ByteBuffer.allocate(4096);
                        Thread.sleep(50);
                        c.configureBlocking(false);
                        c.read(ack);
                        c.configureBlocking(true);
                    }
                    if (round % 5 == 1) {
                        junk = ByteBuffer.allocate(28).putInt(0x25609513).putShort((short) 0)
                                .putShort((short) 1).putLong(round).putLong(rnd.nextLong()).putInt(-1).array();
                    }
                    try {
                        c.write(ByteBuffer.wrap(junk));
                    } catch (java.io.IOException closed) {
                        // the server may close first
                    }
                } catch (java.io.IOException ignored) {
                    // a closed connection is an answer
                }
            }
            assertEquals(sum, p.sh("sha256sum < keep").ok().out(), "seed 7: the other volume is untouched");
            Sh.bash(tmp, "nbdinfo '" + uri("keep") + "' >/dev/null").ok();
            assertTrue(JSON.readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out()).get("live")
                    .asBoolean());
            Sh.Result past = Sh.bash(tmp, "qemu-io -f raw -c 'read 16M 64k' '" + uri("keep") + "'");
            assertNotEquals(0, past.code(), "a read past the end is refused: " + past.out());
            assertTrue(past.out().contains("read failed"), past.out());
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    @Test
    void serveWithoutFuseKeepsWhatWasFlushedAcrossAKill9MidCopy() throws Exception {
        MountedPool p = MountedPool.created(tmp, "1G");
        p.mount();
        p.sh("truncate -s 256M first second").ok();
        p.unmount();
        Path sock = tmp.resolve("nbd.sock");
        p.thinfs("serve", p.pool.toString(), "--nbd", "unix:" + sock).ok();
        Sh.bash(tmp, "head -c 64M /dev/urandom > img && nbdcopy img '" + uri("first") + "'").ok();
        long pid = p.daemonPid();
        Process copy = new ProcessBuilder("bash", "-c", "head -c 256M /dev/urandom | nbdcopy - '" + uri("second")
                + "'").start();
        Thread.sleep(1500);
        Sh.run(tmp, java.util.List.of("kill", "-9", Long.toString(pid))).ok();
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
        copy.destroyForcibly().waitFor();
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check after the kill");
        p.thinfs("serve", p.pool.toString(), "--nbd", "unix:" + sock).ok();
        try {
            Sh.bash(tmp, "cmp img <(nbdcopy '" + uri("first") + "' - | head -c 64M)").ok();
        } finally {
            p.thinfs("umount", p.pool.toString()).ok();
        }
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
    }
}
