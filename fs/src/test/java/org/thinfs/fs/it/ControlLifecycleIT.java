package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pool served without FUSE ({@code thinfs serve}) and driven only through its control socket with socat, as an
 * orchestrator would: create, write through NBD (nbdcopy), clone, rename, resize, snapshot, delete. After every op
 * nbdinfo --list agrees with a model of names and sizes, the daemon is killed with SIGKILL, thin_check is clean, and
 * the restarted daemon shows the same names, sizes and bytes. Bad requests answer ok:false with one sentence and
 * change nothing; an NBD client of a volume deleted under it gets EIO, never another volume's bytes.
 */
class ControlLifecycleIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private MountedPool p;
    private Path sock;
    /** Export name to size: what nbdinfo --list must show. */
    private final Map<String, Long> exports = new TreeMap<>();
    /** Export name to the file its first bytes must equal. */
    private final Map<String, Path> contents = new TreeMap<>();

    private JsonNode op(String json) throws Exception {
        String out = Sh.bash(tmp, "echo '" + json + "' | socat -t 30 - UNIX-CONNECT:" + p.pool.resolve("control.sock"))
                .ok().out().trim();
        return JSON.readTree(out);
    }

    private void ok(String json) throws Exception {
        JsonNode r = op(json);
        assertTrue(r.path("ok").asBoolean(), json + " -> " + r);
    }

    private void refused(String json) throws Exception {
        String before = op("{\"version\":1,\"op\":\"list\"}").toString();
        JsonNode r = op(json);
        assertFalse(r.path("ok").asBoolean(), json + " -> " + r);
        String error = r.path("error").asText();
        assertFalse(error.isEmpty() || error.contains("\n") || error.contains("Exception"), error);
        assertEquals(before, op("{\"version\":1,\"op\":\"list\"}").toString(), "a refused " + json + " changed nothing");
    }

    private String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + sock;
    }

    private void serve() throws Exception {
        p.thinfs("serve", p.pool.toString(), "--nbd", "unix:" + sock).ok();
    }

    /** nbdinfo agrees with the model; then kill -9, thin_check, restart, and everything is still there. */
    private void checkSurvivesKill(String after) throws Exception {
        agrees(after);
        long pid = p.daemonPid();
        Sh.run(tmp, List.of("kill", "-9", Long.toString(pid))).ok();
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check after kill -9 " + after);
        serve();
        agrees("restart after kill -9 " + after);
    }

    private void agrees(String when) throws Exception {
        JsonNode list = JSON.readTree(Sh.run(tmp, List.of("nbdinfo", "--list", "--json",
                "nbd+unix://?socket=" + sock)).ok().out());
        Map<String, Long> seen = new TreeMap<>();
        list.path("exports").forEach(e -> seen.put(e.path("export-name").asText(), e.path("export-size").asLong()));
        assertEquals(exports, seen, "nbdinfo --list " + when);
        for (Map.Entry<String, Path> c : contents.entrySet()) {
            Sh.bash(tmp, "cmp " + c.getValue() + " <(nbdcopy '" + uri(c.getKey()) + "' - | head -c "
                    + Files.size(c.getValue()) + ")").ok();
        }
    }

    @Test
    void aServedPoolDrivenOnlyThroughTheSocketKeepsEveryOpAcrossKill9() throws Exception {
        p = MountedPool.created(tmp, "1G");
        sock = tmp.resolve("nbd.sock");
        serve();
        try {
            ok("{\"version\":1,\"op\":\"volume-create\",\"name\":\"vm1\",\"size\":67108864}");
            exports.put("vm1", 64L << 20);
            checkSurvivesKill("volume-create");

            Path img = tmp.resolve("img");
            Sh.bash(tmp, "head -c 8M /dev/urandom > " + img + " && nbdcopy --flush " + img + " '" + uri("vm1") + "'").ok();
            contents.put("vm1", img);
            checkSurvivesKill("an nbdcopy");

            ok("{\"version\":1,\"op\":\"volume-clone\",\"source\":\"vm1\",\"name\":\"c1\"}");
            exports.put("c1", 64L << 20);
            contents.put("c1", img);
            checkSurvivesKill("volume-clone");

            ok("{\"version\":1,\"op\":\"volume-rename\",\"from\":\"c1\",\"to\":\"c2\"}");
            exports.put("c2", exports.remove("c1"));
            contents.put("c2", contents.remove("c1"));
            checkSurvivesKill("volume-rename");

            ok("{\"version\":1,\"op\":\"volume-resize\",\"name\":\"c2\",\"size\":134217728}");
            exports.put("c2", 128L << 20);
            checkSurvivesKill("volume-resize");

            ok("{\"version\":1,\"op\":\"snapshot\",\"name\":\"s1\"}");
            exports.put("snapshots/s1/vm1", 64L << 20);
            exports.put("snapshots/s1/c2", 128L << 20);
            contents.put("snapshots/s1/vm1", img);
            checkSurvivesKill("snapshot");

            ok("{\"version\":1,\"op\":\"volume-clone\",\"source\":\"snapshots/s1/vm1\",\"name\":\"back\"}");
            exports.put("back", 64L << 20);
            contents.put("back", img);
            ok("{\"version\":1,\"op\":\"volume-delete\",\"name\":\"vm1\"}");
            exports.remove("vm1");
            contents.remove("vm1");
            checkSurvivesKill("volume-delete");

            // Bad input: one sentence each, nothing changes.
            refused("{\"version\":1,\"op\":\"volume-create\",\"name\":\"a/b\",\"size\":1048576}");
            refused("{\"version\":1,\"op\":\"volume-create\",\"name\":\"back\",\"size\":1048576}");
            refused("{\"version\":1,\"op\":\"volume-create\",\"name\":\"huge\",\"size\":18446744073709551616}");
            refused("{\"version\":1,\"op\":\"volume-create\",\"name\":\"neg\",\"size\":-1}");
            refused("{\"version\":1,\"op\":\"volume-rename\",\"from\":\"back\",\"to\":\"c2\"}");
            refused("{\"version\":1,\"op\":\"volume-rename\",\"from\":\"nosuch\",\"to\":\"x\"}");
            refused("{\"version\":1,\"op\":\"volume-delete\",\"name\":\"snapshots/s1/vm1\"}");
            refused("{\"version\":1,\"op\":\"volume-resize\",\"name\":\"../back\",\"size\":1}");
            refused("{\"version\":1,\"op\":\"volume-clone\",\"source\":\"/etc/passwd\",\"name\":\"x\"}");
            refused("{\"version\":1,\"op\":\"volume-create\",\"name\":\"nosize\"}");
            ok("{\"version\":1,\"op\":\"hold\",\"set\":\"s1\",\"tag\":\"backup\"}");
            refused("{\"version\":1,\"op\":\"snapshot-delete\",\"name\":\"s1\"}");
            ok("{\"version\":1,\"op\":\"release\",\"set\":\"s1\",\"tag\":\"backup\"}");

            ok("{\"version\":1,\"op\":\"snapshot-delete\",\"name\":\"s1\"}");
            exports.remove("snapshots/s1/vm1");
            exports.remove("snapshots/s1/c2");
            contents.remove("snapshots/s1/vm1");
            checkSurvivesKill("snapshot-delete");

            // list reports what is mapped and what only each volume maps: back and c2 share the 8 MiB.
            JsonNode list = op("{\"version\":1,\"op\":\"list\"}").path("list").path("volumes");
            for (JsonNode v : list) {
                assertEquals(8L << 20, v.path("mappedBytes").asLong(), v.toString());
                assertEquals(0, v.path("exclusiveBytes").asLong(), v.toString());
            }
        } finally {
            p.thinfs("umount", p.pool.toString());
        }
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
    }

    @Test
    void anNbdClientOfAVolumeDeletedOrRenamedUnderItGetsEio() throws Exception {
        p = MountedPool.created(tmp, "1G");
        sock = tmp.resolve("nbd.sock");
        serve();
        try {
            ok("{\"version\":1,\"op\":\"volume-create\",\"name\":\"gone\",\"size\":1048576}");
            ok("{\"version\":1,\"op\":\"volume-create\",\"name\":\"moved\",\"size\":1048576}");
            Sh.bash(tmp, "qemu-io -f raw -c 'write -P 0x11 0 64k' '" + uri("gone") + "'").ok();
            Sh.bash(tmp, "qemu-io -f raw -c 'write -P 0x22 0 64k' '" + uri("moved") + "'").ok();
            Process deleted = new ProcessBuilder("qemu-io", "-f", "raw", "-c", "read -P 0x11 0 64k", "-c",
                    "sleep 3000", "-c", "read 0 64k", uri("gone")).redirectErrorStream(true).start();
            Process renamed = new ProcessBuilder("qemu-io", "-f", "raw", "-c", "read -P 0x22 0 64k", "-c",
                    "sleep 3000", "-c", "read 0 64k", uri("moved")).redirectErrorStream(true).start();
            Thread.sleep(1000);
            ok("{\"version\":1,\"op\":\"volume-delete\",\"name\":\"gone\"}");
            ok("{\"version\":1,\"op\":\"volume-rename\",\"from\":\"moved\",\"to\":\"elsewhere\"}");
            // The deleted name is taken again by a new volume: the old client must not read it.
            ok("{\"version\":1,\"op\":\"volume-create\",\"name\":\"gone\",\"size\":1048576}");
            for (Process q : List.of(deleted, renamed)) {
                String out = new String(q.getInputStream().readAllBytes());
                q.waitFor();
                assertTrue(out.contains("read failed: Input/output error"), out);
                assertFalse(out.contains("Pattern verification failed"), out);
            }
            Sh.bash(tmp, "qemu-io -f raw -c 'read -P 0x22 0 64k' '" + uri("elsewhere") + "'").ok();
        } finally {
            p.thinfs("umount", p.pool.toString());
        }
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
    }
}
