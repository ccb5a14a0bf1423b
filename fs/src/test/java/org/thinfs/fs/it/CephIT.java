package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * thinfs send and receive against a real one-node Ceph cluster (mon, mgr, one memstore OSD on 127.0.0.1, auth none),
 * started by the suite from Debian's packages and torn down at the end (src/test/resources/ceph-cluster.sh); one
 * cluster for every case. Where the packages are missing the cases are skipped with one line saying so.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CephIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCRIPT = Path.of("src/test/resources/ceph-cluster.sh").toAbsolutePath();

    private Path tmp;
    private Path cluster;
    private String conf;

    @BeforeAll
    void startCluster() throws Exception {
        boolean installed = Sh.bash(Path.of("/"), "command -v ceph-mon && command -v ceph-osd && command -v ceph-mgr "
                + "&& command -v rbd").code() == 0;
        if (!installed) {
            System.out.println("CephIT: skipped: ceph-mon, ceph-osd, ceph-mgr and rbd (Debian's ceph packages) are "
                    + "not installed");
        }
        Assumptions.assumeTrue(installed, "the Ceph packages are not installed");
        tmp = Files.createTempDirectory("ceph-it");
        cluster = tmp.resolve("cluster");
        String out = Sh.run(tmp, List.of("bash", SCRIPT.toString(), "start", cluster.toString())).ok().out().strip();
        conf = out.substring(out.lastIndexOf('\n') + 1);
    }

    @AfterAll
    void stopCluster() throws Exception {
        if (cluster != null) {
            Sh.run(tmp, List.of("bash", SCRIPT.toString(), "stop", cluster.toString()));
            Sh.run(Path.of("/"), List.of("rm", "-rf", tmp.toString()));
        }
    }

    private Sh.Result rbd(String args) throws Exception {
        return Sh.bash(tmp, "rbd --conf " + conf + " " + args);
    }

    /** rbd export of IMAGE[@SNAP] equals FILE byte for byte. */
    private void sameBytes(String spec, Path file) throws Exception {
        Files.deleteIfExists(tmp.resolve("exported"));
        rbd("export --no-progress " + spec + " " + tmp.resolve("exported")).ok();
        Sh.bash(tmp, "cmp " + tmp.resolve("exported") + " " + file).ok();
    }

    private static void write(MountedPool p, int mib, long seekMib) throws Exception {
        p.sh("dd if=/dev/urandom of=vm bs=1M count=" + mib + " seek=" + seekMib + " conv=notrunc,fsync status=none")
                .ok();
    }

    @Test
    void sendKeepsAnImageInStepIncrementallyAcrossAKillAndRefusesADivergedOne() throws Exception {
        Path d = tmp.resolve("send");
        Files.createDirectories(d);
        try (MountedPool p = MountedPool.created(d, "2G")) {
            p.mount();
            p.sh("truncate -s 128M vm").ok();
            for (int i = 1; i <= 5; i++) {
                write(p, 2, i * 10L);
                p.sh("mkdir snapshots/s" + i).ok();
            }
            JsonNode first = lastLine(p.thinfs("send", p.pool.toString(), "vm", "rbd:rbd/vm", "--ceph-conf",
                    conf, "--json").ok());
            assertEquals(5, first.path("sent").size(), first.toString());
            for (int i = 1; i <= 5; i++) {
                sameBytes("rbd/vm@s" + i, p.mnt.resolve("snapshots/s" + i + "/vm"));
            }
            // Three more sets: only what changed moves.
            for (int i = 6; i <= 8; i++) {
                write(p, 1, i * 10L);
                p.sh("mkdir snapshots/s" + i).ok();
            }
            JsonNode second = lastLine(p.thinfs("send", p.pool.toString(), "vm", "rbd:rbd/vm", "--ceph-conf",
                    conf, "--json").ok());
            assertEquals(List.of("s6", "s7", "s8"), texts(second.path("sent")));
            assertEquals(3L << 20, second.path("bytes").asLong(), "only the incremental bytes moved: " + second);
            for (int i = 6; i <= 8; i++) {
                sameBytes("rbd/vm@s" + i, p.mnt.resolve("snapshots/s" + i + "/vm"));
            }
            // Nothing new: a send sends nothing.
            JsonNode again = lastLine(p.thinfs("send", p.pool.toString(), "vm", "rbd:rbd/vm", "--ceph-conf",
                    conf, "--json").ok());
            assertEquals(0, again.path("sent").size(), again.toString());

            // Killed mid-stream: the image's snapshots stay as they were; the next send finishes the job.
            write(p, 96, 0);
            p.sh("mkdir snapshots/big").ok();
            String before = rbd("snap ls rbd/vm").ok().out();
            // Killed mid-stream, deterministically: an rbd shim first on the send's PATH passes the real rbd
            // import-diff the first 32 MiB of the stream, then holds the pipe open and says where it stopped.
            Path shim = tmp.resolve("stalling-rbd");
            Path held = tmp.resolve("stream-held");
            Files.createDirectories(shim);
            Files.deleteIfExists(held);
            Files.writeString(shim.resolve("rbd"), "#!/bin/bash\n"
                    + "real=$(PATH=${PATH#*:} command -v rbd)\n"
                    + "case \" $* \" in\n"
                    + "  *' import-diff '*) { head -c 33554432; echo $BASHPID > " + held + ".tmp; mv " + held
                    + ".tmp " + held + "; exec sleep 600; } | \"$real\" \"$@\" ;;\n"
                    + "  *) exec \"$real\" \"$@\" ;;\n"
                    + "esac\n");
            shim.resolve("rbd").toFile().setExecutable(true);
            ProcessBuilder pb = new ProcessBuilder("java", "-jar", MountedPool.JAR.toString(), "send",
                    p.pool.toString(), "vm", "rbd:rbd/vm", "--ceph-conf", conf).redirectErrorStream(true);
            pb.environment().put("PATH", shim + ":" + System.getenv("PATH"));
            Process send = pb.start();
            long until = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(held)) {
                if (System.nanoTime() > until || !send.isAlive()) {
                    send.destroyForcibly().waitFor();
                    fail("the send never got 32 MiB into rbd import-diff: "
                            + new String(send.getInputStream().readNBytes(1 << 16)));
                }
                Thread.sleep(50);
            }
            send.destroyForcibly().waitFor();
            Sh.bash(tmp, "kill -9 " + Files.readString(held).strip()).ok();
            // The real import-diff now sees the stream end mid-record and gives up; whatever is left is killed.
            Sh.bash(tmp, "for i in $(seq 100); do pgrep -f '[r]bd --conf " + conf + " .*import-diff' >/dev/null "
                    + "|| exit 0; sleep 0.1; done; pkill -9 -f '[r]bd --conf " + conf + " .*import-diff'; true");
            assertEquals(before, rbd("snap ls rbd/vm").ok().out(), "a killed send changed the image's snapshots");
            p.thinfs("send", p.pool.toString(), "vm", "rbd:rbd/vm", "--ceph-conf", conf).ok();
            sameBytes("rbd/vm@big", p.mnt.resolve("snapshots/big/vm"));
            sameBytes("rbd/vm@s8", p.mnt.resolve("snapshots/s8/vm"));

            // Diverged: a snapshot thinfs does not have is refused, and the image is left alone.
            rbd("snap create rbd/vm@theirs").ok();
            write(p, 1, 100);
            p.sh("mkdir snapshots/s9").ok();
            String snaps = rbd("snap ls rbd/vm").ok().out();
            Sh.Result refused = p.thinfs("send", p.pool.toString(), "vm", "rbd:rbd/vm", "--ceph-conf", conf);
            assertNotEquals(0, refused.code());
            assertTrue(refused.out().contains("theirs") && refused.out().contains("diverged"), refused.out());
            assertEquals(snaps, rbd("snap ls rbd/vm").ok().out());
            p.thinfs("send", p.pool.toString(), "vm", "rbd:rbd/vm", "--ceph-conf", conf, "--force").ok();
            sameBytes("rbd/vm@s9", p.mnt.resolve("snapshots/s9/vm"));
        }
        assertEquals(0, ThinTools.check(d.resolve("pool/metadata")).exitCode());
    }

    @Test
    void receiveBringsEverySnapshotOfAnRbdImageThinly() throws Exception {
        rbd("create --size 64M rbd/src").ok();
        List<String> snaps = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            rbd("bench --io-type write --io-size 64K --io-total " + (2 + i) + "M --io-pattern rand "
                    + "rbd/src").ok();
            rbd("snap create rbd/src@r" + i).ok();
            snaps.add("r" + i);
        }
        Path d = tmp.resolve("receive");
        Files.createDirectories(d);
        MountedPool p = MountedPool.created(d, "1G");
        p.thinfs("receive", "rbd:rbd/src", p.pool.toString(), "vm", "--ceph-conf", conf).ok();
        try (MountedPool m = MountedPool.existing(d)) {
            for (String s : snaps) {
                sameBytes("rbd/src@" + s, m.mnt.resolve("snapshots/" + s + "/vm"));
            }
            JsonNode list = JSON.readTree(m.thinfs("list", m.pool.toString(), "--json").ok().out());
            long mapped = 0;
            for (JsonNode set : list.path("snapshots")) {
                if (set.path("name").asText().equals("r3")) {
                    mapped = set.path("volumes").get(0).path("mappedBytes").asLong();
                }
            }
            // 3+4+5 MiB of 64 KiB writes (some overlap): never more than that, whatever rbd resent.
            assertTrue(mapped > 0 && mapped <= 12L << 20, "r3 maps " + mapped + " bytes");
        }
        // Again after more writes: only the new snapshot comes.
        rbd("bench --io-type write --io-size 64K --io-total 1M rbd/src").ok();
        rbd("snap create rbd/src@r4").ok();
        try (MountedPool m = MountedPool.existing(d)) {          // a mounted pool receives through its daemon
            String out = m.thinfs("receive", "rbd:rbd/src", m.pool.toString(), "vm", "--ceph-conf", conf, "--head")
                    .ok().out();
            assertTrue(out.contains("1 snapshot received"), out);
            sameBytes("rbd/src@r4", m.mnt.resolve("snapshots/r4/vm"));
            sameBytes("rbd/src", m.mnt.resolve("vm"));
        }
        assertEquals(0, ThinTools.check(d.resolve("pool/metadata")).exitCode());
    }

    /** The JSON summary: the last line (progress lines on stderr come before it in the merged output). */
    private static JsonNode lastLine(Sh.Result r) throws Exception {
        String out = r.out().strip();
        return JSON.readTree(out.substring(out.lastIndexOf('\n') + 1));
    }

    private static List<String> texts(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return out;
    }
}
