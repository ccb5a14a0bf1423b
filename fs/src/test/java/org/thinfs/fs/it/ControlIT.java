package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control socket through the real daemon: live status, snapshot, resize, the held metadata snapshot read by
 * the real thin_dump, autoextend and when-full under a real writer, other users refused, garbage answered.
 */
class ControlIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static JsonNode status(MountedPool p) throws Exception {
        return JSON.readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
    }

    @Test
    void statusIsLiveRightAfterMkdirLnAndRm() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.sh("truncate -s 1G vm1 && dd if=/dev/urandom of=vm1 bs=64k count=3 conv=notrunc status=none "
                    + "&& mkdir snapshots/first && ln vm1 vm1-clone").ok();
            JsonNode s = status(p);
            assertTrue(s.get("live").asBoolean(), s.toString());
            assertEquals(2, s.get("volumes").size(), s.toString());
            assertEquals("vm1-clone", s.get("volumes").get(1).get("name").asText());
            assertTrue(s.get("snapshots").has("first"), s.toString());
            assertEquals(3, s.get("dataBlocksUsed").asLong(), "the three written blocks, shared by all three");
            p.sh("rm vm1-clone && rmdir snapshots/first 2>/dev/null; rm snapshots/first/vm1 && rmdir snapshots/first")
                    .ok();
            s = status(p);
            assertEquals(1, s.get("volumes").size(), s.toString());
            assertEquals(0, s.get("snapshots").size(), s.toString());
            String text = p.thinfs("status", p.pool.toString()).ok().out();
            assertTrue(text.contains("(mounted on " + p.mnt + "; live)") && text.contains("vm1"), text);
        }
    }

    @Test
    void snapshotAndResizeActBeforeTheCommandReturns() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.sh("truncate -s 64M a b && echo hello > a").ok();
            p.thinfs("snapshot", p.pool.toString(), "only-a", "a").ok();
            assertEquals("a", p.sh("ls snapshots/only-a").ok().out().trim());
            p.thinfs("snapshot", p.pool.toString(), "all").ok();
            assertEquals("a\nb", p.sh("ls snapshots/all").ok().out().trim());
            Sh.Result dup = p.thinfs("snapshot", p.pool.toString(), "all");
            assertEquals(1, dup.code());
            assertEquals("thinfs snapshot: snapshot set all exists", dup.out().trim());
            Sh.Result none = p.thinfs("snapshot", p.pool.toString(), "x", "nosuch");
            assertEquals("thinfs snapshot: no volume named nosuch", none.out().trim());

            p.thinfs("resize", p.pool.toString(), "--data", "512M").ok();
            assertEquals(512L << 20, status(p).get("dataBlocks").asLong() * 65536);
            assertEquals("512", p.sh("df -B1M --output=size . | tail -1").ok().out().trim(), "statfs sees it at once");
            Sh.Result shrink = p.thinfs("resize", p.pool.toString(), "--data", "128M");
            assertEquals(1, shrink.code());
            assertTrue(shrink.out().startsWith("thinfs resize: cannot shrink the data space"), shrink.out());
            assertFalse(Files.exists(p.pool.resolve("resize.request")));
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    @Test
    void heldMetadataSnapshotGivesThinDumpTheViewOfTheHoldWhileWritesGoOn() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.sh("truncate -s 64M vm1 && dd if=/dev/urandom of=vm1 bs=64k count=8 conv=notrunc,fsync status=none")
                    .ok();
            String held = p.thinfs("metadata-snap", p.pool.toString(), "hold").ok().out();
            assertTrue(held.startsWith("metadata snapshot held at block "), held);
            Path meta = p.pool.resolve("metadata");
            String atHold = ThinTools.dump(meta, true).requireOk().stdout();
            assertEquals(1, count(atHold, "<device "), atHold);
            // The pool goes on working: new volumes, new blocks, a snapshot, all committed.
            p.sh("truncate -s 64M vm2 && dd if=/dev/urandom of=vm2 bs=64k count=16 conv=fsync status=none "
                    + "&& dd if=/dev/urandom of=vm1 bs=64k count=8 conv=notrunc,fsync status=none "
                    + "&& mkdir snapshots/s").ok();
            String later = ThinTools.dump(meta, true).requireOk().stdout();
            assertEquals(atHold, later, "the held view does not move");
            String live = ThinTools.dump(meta, false).requireOk().stdout();
            assertEquals(4, count(live, "<device "), "the live metadata has vm1, vm2 and the snapshots of both");
            assertNotEquals(0, status(p).get("heldMetadataRoot").asLong());
            assertTrue(p.thinfs("dump", "-m", p.pool.toString()).ok().out().contains("dev_id=\"1\""));
            String delta = p.thinfs("delta", "-m", p.pool.toString(), "1", "1").ok().out();
            assertTrue(delta.contains("metadata_snap=\"" + status(p).get("heldMetadataRoot").asLong() + "\""), delta);

            p.unmount();
            p.mount();
            assertNotEquals(0, status(p).get("heldMetadataRoot").asLong(), "a held snapshot survives a remount");
            assertEquals(atHold, ThinTools.dump(meta, true).requireOk().stdout());
            p.thinfs("metadata-snap", p.pool.toString(), "release").ok();
            assertEquals(0, status(p).get("heldMetadataRoot").asLong());
            Sh.Result again = p.thinfs("metadata-snap", p.pool.toString(), "release");
            assertEquals("thinfs metadata-snap: no metadata snapshot is held", again.out().trim());
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    @Test
    void autoextendLetsAWriterFillPastThePoolsFirstSize() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M", "--autoextend-threshold", "80",
                "--autoextend-percent", "20", "--autoextend-max", "1G")) {
            p.sh("truncate -s 1G vm1 && dd if=/dev/urandom of=vm1 bs=1M count=400 conv=notrunc,fsync status=none")
                    .ok();
            JsonNode s = status(p);
            assertTrue(s.get("dataBlocks").asLong() * 65536 > (400L << 20), s.toString());
            assertEquals(80, s.get("settings").get("autoextendThreshold").asInt());
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    @Test
    void whenFullWaitResumesTheWriterOnResizeAndTimesOutOtherwise() throws Exception {
        MountedPool p = MountedPool.created(tmp, "64M", "--when-full", "wait");
        p.mountWith(Map.of("THINFS_JAVA_OPTS", "-Xmx384m -Dthinfs.whenFullWaitMs=3000"));
        try (p) {
            p.sh("truncate -s 1G vm1").ok();
            Process writer = new ProcessBuilder("dd", "if=/dev/urandom", "of=" + p.mnt.resolve("vm1"), "bs=1M",
                    "count=96", "conv=notrunc,fsync", "status=none").redirectErrorStream(true).start();
            // Data (not zeros, which would provision nothing): the pool fills at 64 MiB and the writer waits.
            for (int i = 0; i < 100 && status(p).get("dataBlocksUsed").asLong() < 1024; i++) {
                Thread.sleep(100);
            }
            assertTrue(writer.isAlive(), "the writer is held, not failed");
            p.thinfs("resize", p.pool.toString(), "--data", "128M").ok();
            assertTrue(writer.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(0, writer.exitValue(), new String(writer.getInputStream().readAllBytes()));

            // Full again with nothing coming: ENOSPC after the (here 3 s) timeout.
            long t0 = System.nanoTime();
            Sh.Result full = p.sh("dd if=/dev/urandom of=vm1 bs=1M seek=100 count=64 conv=notrunc,fsync status=none");
            assertNotEquals(0, full.code());
            assertTrue(full.out().contains("No space left"), full.out());
            assertTrue(System.nanoTime() - t0 > 2_500_000_000L, "held for the timeout first");
            assertEquals("wait", status(p).get("settings").get("whenFull").asText());
        }
    }

    @Test
    void setChangesTheLivePolicyAndIsKeptWithThePool() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.thinfs("set", p.pool.toString(), "autoextend-threshold=80", "autoextend-percent=20",
                    "autoextend-max=200G", "when-full=wait").ok();
            JsonNode st = status(p).get("settings");
            assertEquals(80, st.get("autoextendThreshold").asInt());
            assertEquals(200L << 30, st.get("autoextendMax").asLong());
            Sh.Result bad = p.thinfs("set", p.pool.toString(), "autoextend-threshold=20");
            assertEquals(2, bad.code());
            assertTrue(bad.out().startsWith("thinfs set: autoextend-threshold must be a percentage"), bad.out());
            p.unmount();
            assertEquals("wait", status(p).get("settings").get("whenFull").asText(), "kept while unmounted");
            p.thinfs("set", p.pool.toString(), "when-full=error").ok();
            p.mount();
            assertEquals("error", status(p).get("settings").get("whenFull").asText());
        }
    }

    @Test
    void otherUsersAreRefusedOnTheSocket() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            Path sock = p.pool.resolve("control.sock");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            String asNobody = "setpriv --reuid=65534 --regid=65534 --clear-groups socat -t 5 - UNIX-CONNECT:" + sock;
            Sh.Result denied = Sh.bash(tmp, "echo '{\"version\":1,\"op\":\"status\"}' | " + asNobody);
            assertNotEquals(0, denied.code(), "mode 0600 keeps other users out: " + denied.out());
            // Even through a widened mode, the daemon checks the peer's credentials itself.
            Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-rw-rw-"));
            Sh.Result refused = Sh.bash(tmp, "echo '{\"version\":1,\"op\":\"snapshot\",\"name\":\"x\"}' | "
                    + asNobody);
            JsonNode r = JSON.readTree(refused.out());
            assertFalse(r.get("ok").asBoolean());
            assertTrue(r.get("error").asText().startsWith("permission denied"), r.toString());
            assertEquals(0, status(p).get("snapshots").size(), "nothing was done for them");
        }
    }

    @Test
    void malformedRequestsGetErrorsAndLeaveThePoolWorking() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            p.sh("truncate -s 16M vm1 && dd if=/dev/urandom of=vm1 bs=64k count=4 conv=notrunc status=none").ok();
            String sum = p.sh("sha256sum < vm1").ok().out();
            Random rnd = new Random(42);
            try (Client c = new Client(p.pool)) {
                for (String bad : List.of("garbage", "[]", "{}", "null", "{\"version\":2,\"op\":\"status\"}",
                        "{\"version\":\"1\",\"op\":\"status\"}", "{\"version\":1}", "{\"version\":1,\"op\":7}",
                        "{\"version\":1,\"op\":\"format-disk\"}", "{\"version\":1,\"op\":\"resize\",\"data\":\"x\"}",
                        "{\"version\":1,\"op\":\"resize\",\"data\":-5}", "{\"version\":1,\"op\":\"resize\"}",
                        "{\"version\":1,\"op\":\"snapshot\",\"name\":\"../x\"}",
                        "{\"version\":1,\"op\":\"snapshot\",\"name\":\"y\",\"volumes\":\"vm1\"}",
                        "{\"version\":1,\"op\":\"metadata-snap\",\"action\":\"drop\"}",
                        "{\"version\":1,\"op\":\"set\",\"settings\":{\"autoextend-percent\":\"lots\"}}",
                        "{\"version\":1,\"op\":\"set\",\"settings\":{\"when-full\":{\"a\":1}}}")) {
                    JsonNode r = c.call(bad);
                    assertFalse(r.get("ok").asBoolean(), bad + " -> " + r);
                    assertFalse(r.get("error").asText().isBlank(), bad + " -> " + r);
                }
                for (int i = 0; i < 200; i++) {
                    byte[] junk = new byte[rnd.nextInt(300)];
                    rnd.nextBytes(junk);
                    for (int k = 0; k < junk.length; k++) {
                        if (junk[k] == '\n') {
                            junk[k] = ' ';
                        }
                    }
                    JsonNode r = c.call(new String(junk, StandardCharsets.ISO_8859_1));
                    assertFalse(r.get("ok").asBoolean(), "seed 42, junk line " + i + " -> " + r);
                }
                assertTrue(c.call("{\"version\":1,\"op\":\"status\"}").get("ok").asBoolean(),
                        "the connection still serves after garbage");
            }
            try (Client c = new Client(p.pool)) {
                JsonNode r = c.call("x".repeat(100_000));
                assertTrue(r.get("error").asText().contains("longer than"), r.toString());
            }
            assertEquals(sum, p.sh("sha256sum < vm1").ok().out());
            assertEquals(0, status(p).get("snapshots").size());
            assertTrue(status(p).get("live").asBoolean());
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    @Test
    void afterKill9WithAClientConnectedTheRemountedSocketWorks() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            p.sh("truncate -s 16M vm1").ok();
            try (Client events = new Client(p.pool)) {
                assertTrue(events.call("{\"version\":1,\"op\":\"events\"}").get("streaming").asBoolean());
                try (Client idle = new Client(p.pool)) {
                    p.kill9();
                }
            }
            assertTrue(Files.exists(p.pool.resolve("control.sock")), "the killed daemon left its socket");
            Sh.Result dead = p.thinfs("status", p.pool.toString(), "--json");
            assertFalse(JSON.readTree(dead.ok().out()).get("live").asBoolean(), "a stale socket means unmounted");
            p.mount();
            assertTrue(status(p).get("live").asBoolean());
            p.thinfs("snapshot", p.pool.toString(), "after").ok();
            assertEquals("vm1", p.sh("ls snapshots/after").ok().out().trim());
        }
    }

    @Test
    void eventsStreamThresholdAndExtension() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M", "--autoextend-threshold", "70")) {
            Process ev = new ProcessBuilder("java", "-jar", MountedPool.JAR.toString(), "events", p.pool.toString())
                    .redirectErrorStream(true).start();
            Thread.sleep(4000); // the client's JVM starts and subscribes (no event is sent before that)
            p.sh("truncate -s 1G vm1 && dd if=/dev/urandom of=vm1 bs=1M count=60 conv=notrunc,fsync status=none")
                    .ok();
            Thread.sleep(1000);
            p.unmount(); // the stream ends with the daemon
            assertTrue(ev.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
            String out = new String(ev.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            boolean threshold = false;
            boolean extended = false;
            for (String line : out.split("\n")) {
                JsonNode e = JSON.readTree(line);
                assertEquals(1, e.get("version").asInt(), line);
                threshold |= e.get("event").asText().equals("threshold");
                extended |= e.get("event").asText().equals("extended");
            }
            assertTrue(threshold && extended, out);
        }
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** A raw client: one line out, one line back. */
    private static final class Client implements AutoCloseable {
        final SocketChannel ch;
        final BufferedReader in;

        Client(Path pool) throws Exception {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(pool.resolve("control.sock")));
            in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
        }

        JsonNode call(String line) throws Exception {
            ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.ISO_8859_1));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            String reply = in.readLine();
            assertTrue(reply != null, "a reply to " + line.substring(0, Math.min(60, line.length())));
            return JSON.readTree(reply);
        }

        @Override
        public void close() throws Exception {
            ch.close();
        }
    }
}
