package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshot workflows through one mount with an NBD socket: rollback in place with a reader holding the file open and
 * a qemu-io NBD client connected (both read the snapshot's bytes after it; same device id; blocks written since are
 * freed), EBUSY for a volume open for writing unless --force, --snapshot NAME to undo, rollback durable across
 * kill -9 and offline; holds refuse rm, rmdir and mv out of a set, survive a remount, and are released.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RollbackIT {
    @TempDir
    static Path tmp;
    static MountedPool p;
    static String sock;

    @BeforeAll
    static void mount() throws Exception {
        p = MountedPool.created(tmp, "1G");
        sock = tmp.resolve("nbd.sock").toString();
        p.mount("--nbd", "unix:" + sock);
    }

    @AfterAll
    static void unmount() throws Exception {
        p.close();
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check");
    }

    private static JsonNode volume(String name) throws Exception {
        JsonNode s = new ObjectMapper().readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
        for (JsonNode v : s.get("volumes")) {
            if (v.get("name").asText().equals(name)) {
                return v;
            }
        }
        throw new AssertionError("no volume " + name + " in " + s);
    }

    private static long usedKiB() throws Exception {
        return Long.parseLong(p.sh("sync && df -k --output=used . | tail -1").ok().out().trim());
    }

    @Test
    @Order(1)
    void rollbackInPlaceReachesAnOpenReaderAndAnNbdClient() throws Exception {
        p.sh("truncate -s 64M vm && qemu-io -f raw -c 'write -P 0xaa 0 1M' vm >/dev/null").ok();
        p.thinfs("snapshot", p.pool.toString(), "s1").ok();
        p.sh("qemu-io -f raw -c 'write -P 0xbb 0 1M' -c 'write -P 0xcc 8M 4M' vm >/dev/null").ok();
        long id = volume("vm").get("id").asLong();
        long used = usedKiB();
        String flag = tmp.resolve("rolled").toString();
        // A reader with the file open (its pages cached) and an NBD client, both connected across the rollback.
        String reader = "import os, time\n"
                + "fd = os.open('vm', os.O_RDONLY)\n"
                + "assert os.pread(fd, 65536, 0) == b'\\xbb' * 65536, 'before'\n"
                + "open('" + tmp + "/reader-ready', 'w').close()\n"
                + "while not os.path.exists('" + flag + "'): time.sleep(0.05)\n"
                + "got = os.pread(fd, 65536, 0)\n"
                + "assert got == b'\\xaa' * 65536, 'after the rollback the open reader read %r' % got[:8]\n";
        java.nio.file.Files.writeString(tmp.resolve("reader.py"), reader);
        String nbd = "(echo 'read -P 0xbb 0 1M'; while [ ! -e " + flag + " ]; do sleep 0.05; done; "
                + "echo 'read -P 0xaa 0 1M'; echo 'read -P 0 8M 4M'; echo quit) | qemu-io -f raw "
                + "'nbd+unix:///vm?socket=" + sock + "' > " + tmp + "/nbd.out 2>&1";
        Sh.Result r = p.sh("python3 " + tmp + "/reader.py & R=$!; (" + nbd + ") & N=$!; "
                + "while [ ! -e " + tmp + "/reader-ready ]; do sleep 0.05; done; sleep 1; "
                + "java -jar " + MountedPool.JAR + " rollback " + p.pool + " s1 --force && touch " + flag + "; "
                + "wait $R && wait $N");
        String nbdOut = p.sh("cat " + tmp + "/nbd.out").ok().out();
        assertEquals(0, r.code(), r.out() + nbdOut);
        assertFalse(nbdOut.contains("verification failed"), "the NBD client read other bytes:\n" + nbdOut);
        assertEquals(3, nbdOut.split("read 1048576/1048576|read 4194304/4194304", -1).length - 1, nbdOut);
        assertEquals(id, volume("vm").get("id").asLong(), "rollback keeps the device id");
        assertTrue(usedKiB() <= used - 4 * 1024, "the 5 MiB written since the snapshot were not freed");
        p.sh("cmp vm snapshots/s1/vm").ok();
    }

    @Test
    @Order(2)
    void aVolumeOpenForWritingIsRefusedUnlessForced() throws Exception {
        p.sh("qemu-io -f raw -c 'write -P 0xdd 0 64k' vm >/dev/null").ok();
        Sh.Result refused = p.sh("exec 5<>vm; java -jar " + MountedPool.JAR + " rollback " + p.pool + " s1");
        assertNotEquals(0, refused.code());
        assertTrue(refused.out().contains("vm is open for writing") && !refused.out().contains("Exception"),
                refused.out());
        p.sh("qemu-io -f raw -c 'read -P 0xdd 0 64k' vm | grep -q 'read 65536'").ok();
        p.thinfs("rollback", p.pool.toString(), "s1", "--snapshot", "undo").ok();
        p.sh("cmp vm snapshots/s1/vm && qemu-io -r -f raw -c 'read -P 0xdd 0 64k' snapshots/undo/vm "
                + "| grep -q 'read 65536'").ok();
        Sh.Result missing = p.thinfs("rollback", p.pool.toString(), "nope");
        assertNotEquals(0, missing.code());
        assertTrue(missing.out().contains("no snapshot set nope"), missing.out());
    }

    @Test
    @Order(3)
    void aRollbackSurvivesKillNineAndWorksOffline() throws Exception {
        p.thinfs("rollback", p.pool.toString(), "undo").ok();
        p.kill9();
        p.mount("--nbd", "unix:" + sock);
        p.sh("cmp vm snapshots/undo/vm").ok();
        p.unmount();
        p.thinfs("rollback", p.pool.toString(), "s1").ok();                // on the files, no daemon
        p.mount("--nbd", "unix:" + sock);
        p.sh("cmp vm snapshots/s1/vm").ok();
    }

    @Test
    @Order(4)
    void holdsKeepASetUntilReleasedAndSurviveARemount() throws Exception {
        p.thinfs("hold", p.pool.toString(), "s1", "replication").ok();
        p.thinfs("hold", p.pool.toString(), "s1", "backup").ok();
        for (String removal : new String[]{"rm -r snapshots/s1", "rmdir snapshots/s1", "mv snapshots/s1/vm vm2"}) {
            Sh.Result r = p.sh(removal);
            assertNotEquals(0, r.code(), removal);
            assertTrue(r.out().contains("busy"), removal + ": " + r.out());
        }
        p.sh("cmp vm snapshots/s1/vm").ok();
        p.unmount();
        assertEquals("s1                       backup replication\n", p.thinfs("holds", p.pool.toString()).ok().out());
        p.mount("--nbd", "unix:" + sock);
        assertEquals("{\"s1\":[\"backup\",\"replication\"]}\n",
                p.thinfs("holds", p.pool.toString(), "--json").ok().out());
        Sh.Result twice = p.thinfs("hold", p.pool.toString(), "s1", "backup");
        assertTrue(twice.code() != 0 && twice.out().contains("already has hold backup"), twice.out());
        Sh.Result bad = p.thinfs("hold", p.pool.toString(), "s1", "two words");
        assertTrue(bad.code() != 0 && bad.out().contains("hold tag"), bad.out());
        p.thinfs("release", p.pool.toString(), "s1", "replication").ok();
        assertNotEquals(0, p.sh("rmdir snapshots/s1").code(), "one hold is left");
        p.thinfs("release", p.pool.toString(), "s1", "backup").ok();
        p.sh("rm -r snapshots/s1").ok();
        assertEquals("{}\n", p.thinfs("holds", p.pool.toString(), "--json").ok().out());
    }

    @Test
    @Order(5)
    void theSpaceEachSetHoldsIsWhatRemovingItFrees() throws Exception {
        // Three sets over two volumes, with overwrites between them so each holds different blocks alone.
        p.sh("truncate -s 64M c d && dd if=/dev/urandom of=c bs=1M count=6 conv=notrunc status=none && "
                + "dd if=/dev/urandom of=d bs=1M count=2 conv=notrunc status=none && sync c d").ok();
        p.thinfs("snapshot", p.pool.toString(), "t1", "c", "d", "--description", "first").ok();
        p.sh("dd if=/dev/urandom of=c bs=1M count=3 conv=notrunc status=none && sync c").ok();
        p.thinfs("snapshot", p.pool.toString(), "t2", "c", "d").ok();
        p.sh("dd if=/dev/urandom of=c bs=1M count=1 conv=notrunc status=none && "
                + "dd if=/dev/urandom of=d bs=1M count=2 conv=notrunc status=none && sync c d").ok();
        p.thinfs("snapshot", p.pool.toString(), "t3", "c").ok();
        p.sh("dd if=/dev/urandom of=c bs=1M seek=5 count=1 conv=notrunc status=none && sync c").ok();
        assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("sets hold "),
                "status shows what the snapshot sets hold");
        ObjectMapper json = new ObjectMapper();
        for (String set : new String[]{"t2", "t1", "t3"}) {
            JsonNode list = json.readTree(p.thinfs("snapshots", p.pool.toString(), "--json").ok().out());
            long said = -1;
            for (JsonNode o : list) {
                if (o.get("name").asText().equals(set)) {
                    said = o.get("exclusiveBytes").asLong();
                    assertEquals(set.equals("t1") ? "first" : null, o.get("description").isNull() ? null
                            : o.get("description").asText());
                }
            }
            long before = json.readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out())
                    .get("dataBlocksUsed").asLong();
            p.sh("rm -r snapshots/" + set).ok();
            long after = json.readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out())
                    .get("dataBlocksUsed").asLong();
            assertEquals(said, (before - after) * 65536, set + ": snapshots said " + said / 1024
                    + " KiB alone, removing it freed " + (before - after) * 64 + " KiB");
            assertTrue(said > 0 || set.equals("t3"), set + " holds nothing alone: the test proves little");
        }
    }

    @Test
    @Order(6)
    void pruneKeepsWhatThePolicySaysAndNeverAHeldSet() throws Exception {
        for (int i = 1; i <= 5; i++) {
            p.thinfs("snapshot", p.pool.toString(), "p" + i, "c").ok();
            Thread.sleep(20);                                          // distinct creation times
        }
        p.thinfs("hold", p.pool.toString(), "p2", "keep-me").ok();
        String plan = p.thinfs("prune", p.pool.toString(), "--keep", "last=2", "--match", "p*", "--dry-run",
                "--json").ok().out();
        assertEquals("{\"removed\":[\"p1\",\"p3\"],\"held\":[\"p2\"],\"dryRun\":true}\n", plan);
        p.sh("ls snapshots/p1 snapshots/p3 >/dev/null").ok();
        assertEquals("removed snapshots/p1\nremoved snapshots/p3\nkept snapshots/p2 (held)\n",
                p.thinfs("prune", p.pool.toString(), "--keep", "last=2", "--match", "p*").ok().out());
        assertEquals("p2\np4\np5\nundo\n", p.sh("ls snapshots").ok().out(), "prune left other sets alone");
        Sh.Result bad = p.thinfs("prune", p.pool.toString(), "--keep", "fortnightly=2");
        assertTrue(bad.code() != 0 && bad.out().contains("--keep takes RULE=N"), bad.out());
        p.thinfs("release", p.pool.toString(), "p2", "keep-me").ok();
    }

    @Test
    @Order(7)
    void prePostPairsAreListedWithTheirTypes() throws Exception {
        p.thinfs("snapshot", p.pool.toString(), "before-apt", "c", "--pre", "--description", "apt upgrade").ok();
        p.thinfs("snapshot", p.pool.toString(), "after-apt", "c", "--post", "before-apt").ok();
        Sh.Result bad = p.thinfs("snapshot", p.pool.toString(), "x", "--post", "p4");
        assertTrue(bad.code() != 0 && bad.out().contains("p4 is not a pre set"), bad.out());
        JsonNode list = new ObjectMapper().readTree(p.thinfs("snapshots", p.pool.toString(), "--json").ok().out());
        java.util.Map<String, String> types = new java.util.TreeMap<>();
        list.forEach(o -> types.put(o.get("name").asText(), o.get("type").asText()
                + (o.has("pre") ? ":" + o.get("pre").asText() : "")));
        assertEquals("post:before-apt", types.get("after-apt"));
        assertEquals("pre", types.get("before-apt"));
        assertEquals("manual", types.get("p4"));
        assertTrue(p.thinfs("snapshots", p.pool.toString()).ok().out().contains("(post of before-apt)"));
    }
}
