package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.thinfs.core.testing.ThinTools;
import org.thinfs.fs.control.ControlClient;
import org.thinfs.fs.control.ControlProtocol;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control surface under load, on one mount shared by the cases (FUSE and NBD and metrics on one daemon):
 * eight socket clients doing random volume lifecycles against a model while an NBD client writes a volume and a
 * FUSE reader reads it; then the Prometheus metrics, checked by promtool and against status --json.
 *
 * <p>Bytes: the NBD writer fills 64 KiB blocks of {@code w} with one byte value (1..200) per write; every volume a
 * socket client makes gets 0xEE through FUSE. So a byte of {@code w} the writer never wrote to its block, or 0xEE,
 * is a wrong byte, and so is a page of a clone of {@code w} that is not one value (a clone is made between writes).
 * Operations per client: property {@code thinfs.it.controlOps} (default 30).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControlSurfaceIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BLOCK = 64 << 10;
    private static final int W_BLOCKS = 64;
    private static final int CLIENTS = 8;
    private static final int OPS = Integer.getInteger("thinfs.it.controlOps", 30);

    private Path tmp;
    private MountedPool p;
    private Path nbdSock;
    private int metricsPort;

    @BeforeAll
    void mount() throws Exception {
        tmp = Files.createTempDirectory("control-surface");
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            metricsPort = s.getLocalPort();
        }
        nbdSock = tmp.resolve("nbd.sock");
        p = MountedPool.created(tmp, "2G");
        p.mount("--nbd", "unix:" + nbdSock, "--metrics", Integer.toString(metricsPort));
        p.sh("truncate -s " + (W_BLOCKS * BLOCK) + " w").ok();
    }

    @AfterAll
    void unmount() throws Exception {
        p.close();
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check at the end");
        Sh.run(Path.of("/"), List.of("rm", "-rf", tmp.toString()));
    }

    private String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + nbdSock;
    }

    /**
     * Checks that every 4 KiB page of the first {@code blocks} 64 KiB blocks of {@code file} is one value, never
     * 0xEE: for a clone of {@code w}, which no write changes. Pages, not blocks: the kernel reads page by page, and
     * may keep pages it cached before.
     */
    private static void uniformBlocks(Path file, int blocks, String what) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(BLOCK);
            for (int i = 0; i < blocks; i++) {
                b.clear();
                while (b.hasRemaining() && ch.read(b, (long) i * BLOCK + b.position()) > 0) {
                    // fill
                }
                for (int page = 0; page < BLOCK; page += 4096) {
                    byte first = b.get(page);
                    for (int j = page; j < page + 4096; j++) {
                        if (b.get(j) != first) {
                            throw new AssertionError(what + ": block " + i + " mixes bytes " + first + " and "
                                    + b.get(j) + " at " + j);
                        }
                    }
                    if (first == (byte) 0xEE) {
                        throw new AssertionError(what + ": block " + i + " holds another volume's bytes (0xEE)");
                    }
                }
            }
        }
    }

    /**
     * Checks that every byte of the first {@code blocks} 64 KiB blocks of {@code file} is one the writer wrote to its
     * block ({@code written[block]}) or zero, never 0xEE. For a read that races the writer: a FUSE read of a block the
     * NBD writer is rewriting in place may see part of the old and part of the new bytes, even within a page (the
     * host's page cache copies a buffered write into a page while buffered reads of that page go on; ext4 takes no
     * lock for them), as a disk may for a read that overlaps a write. Bytes from anywhere else are a defect.
     */
    private static void bytesOfTheWriter(Path file, int blocks, boolean[][] written, String what) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(BLOCK);
            for (int i = 0; i < blocks; i++) {
                b.clear();
                while (b.hasRemaining() && ch.read(b, (long) i * BLOCK + b.position()) > 0) {
                    // fill
                }
                for (int j = 0; j < BLOCK; j++) {
                    int v = b.get(j) & 0xFF;
                    if (v != 0 && !written[i][v]) {
                        throw new AssertionError(what + ": block " + i + " holds " + v + " at " + j
                                + (v == 0xEE ? " (another volume's bytes)" : ", which the writer never wrote there"));
                    }
                }
            }
        }
    }

    @Test
    @Order(1)
    void eightSocketClientsAgainstAnNbdWriterAndAFuseReaderMatchTheirModels() throws Exception {
        long seed = Long.getLong("thinfs.it.seed", System.nanoTime());
        // The NBD writer: one qemu-io process, one uniform value per 64 KiB write; the model is the last value.
        Random wr = new Random(seed);
        int[] last = new int[W_BLOCKS];
        boolean[][] written = new boolean[W_BLOCKS][256];
        List<String> writes = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (int i = 0; i < 400; i++) {
            int blk = wr.nextInt(W_BLOCKS);
            int v = 1 + wr.nextInt(200);
            last[blk] = v;
            written[blk][v] = true;
            writes.addAll(List.of("-c", "write -P " + v + " " + (long) blk * BLOCK + " " + BLOCK));
        }
        writes.add(uri("w"));
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        assertTimeoutPreemptively(Duration.ofSeconds(240), () -> {
            Thread writer = new Thread(() -> {
                try {
                    Sh.run(tmp, writes).ok();
                } catch (Throwable t) {
                    failures.add(t);
                }
            });
            Thread reader = new Thread(() -> {
                try {
                    while (!done.get()) {
                        bytesOfTheWriter(p.mnt.resolve("w"), W_BLOCKS, written, "FUSE read of w");
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            });
            List<Thread> clients = new ArrayList<>();
            List<Map<String, Long>> volumeModels = new ArrayList<>();
            List<TreeSet<String>> setModels = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                Map<String, Long> vols = new TreeMap<>();
                TreeSet<String> sets = new TreeSet<>();
                volumeModels.add(vols);
                setModels.add(sets);
                int client = c;
                clients.add(new Thread(() -> {
                    int i = -1;
                    try (ControlClient cc = ControlClient.connect(p.pool)) {
                        Random r = new Random(seed + client);
                        for (i = 0; i < OPS; i++) {
                            lifecycleStep(cc, client, i, r, vols, sets);
                        }
                    } catch (Throwable t) {
                        failures.add(new AssertionError("client " + client + " op " + i + " (seed " + seed + ")", t));
                    }
                }));
            }
            writer.start();
            reader.start();
            clients.forEach(Thread::start);
            for (Thread t : clients) {
                t.join();
            }
            writer.join();
            done.set(true);
            reader.join();
            if (!failures.isEmpty()) {
                AssertionError e = new AssertionError("seed " + seed + ": " + failures.size() + " failures");
                failures.forEach(e::addSuppressed);
                throw e;
            }
            // The pool's names are the union of the models.
            JsonNode list = JSON.readTree(p.thinfs("list", p.pool.toString(), "--json").ok().out());
            Map<String, Long> vols = new TreeMap<>();
            list.path("volumes").forEach(v -> vols.put(v.path("name").asText(), v.path("size").asLong()));
            Map<String, Long> expected = new TreeMap<>();
            volumeModels.forEach(expected::putAll);
            expected.put("w", (long) W_BLOCKS * BLOCK);
            assertEquals(expected, vols, "volumes, seed " + seed);
            TreeSet<String> sets = new TreeSet<>();
            list.path("snapshots").forEach(s -> sets.add(s.path("name").asText()));
            TreeSet<String> expectedSets = new TreeSet<>();
            setModels.forEach(expectedSets::addAll);
            assertEquals(expectedSets, sets, "snapshot sets, seed " + seed);
            // w holds the writer's last value in every block it wrote (zeros elsewhere), read through NBD.
            List<String> reads = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
            for (int b = 0; b < W_BLOCKS; b++) {
                reads.addAll(List.of("-c", "read -P " + last[b] + " " + (long) b * BLOCK + " " + BLOCK));
            }
            reads.add(uri("w"));
            String out = Sh.run(tmp, reads).ok().out();
            assertTrue(!out.contains("failed"), "seed " + seed + ": " + out);
        });
    }

    /** One random op of client {@code c}, checked against its model; names are the client's own. */
    private void lifecycleStep(ControlClient cc, int c, int i, Random r, Map<String, Long> vols,
                               TreeSet<String> sets) throws Exception {
        List<String> names = new ArrayList<>(vols.keySet());
        String any = names.isEmpty() ? null : names.get(r.nextInt(names.size()));
        String fresh = "c" + c + "-" + i;
        int pick = r.nextInt(9);
        if (pick == 0 || any == null) {
            long size = (1 + r.nextInt(16)) << 20;
            call(cc, "volume-create", "name", fresh, "size", size);
            vols.put(fresh, size);
            try (FileChannel ch = FileChannel.open(p.mnt.resolve(fresh), StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.allocate(BLOCK);
                java.util.Arrays.fill(b.array(), (byte) 0xEE);
                ch.write(b, 0);
            }
        } else if (pick == 1) {
            call(cc, "volume-clone", "source", "w", "name", fresh);
            vols.put(fresh, (long) W_BLOCKS * BLOCK);
            uniformBlocks(p.mnt.resolve(fresh), W_BLOCKS, "clone " + fresh + " of w");
        } else if (pick == 2) {
            call(cc, "volume-clone", "source", any, "name", fresh);
            vols.put(fresh, vols.get(any));
        } else if (pick == 3) {
            call(cc, "volume-rename", "from", any, "to", fresh);
            vols.put(fresh, vols.remove(any));
        } else if (pick == 4) {
            long size = (1 + r.nextInt(64)) << 20;
            call(cc, "volume-resize", "name", any, "size", size);
            vols.put(any, size);
        } else if (pick == 5) {
            call(cc, "volume-delete", "name", any);
            vols.remove(any);
        } else if (pick == 6) {
            ObjectNode req = ControlProtocol.request("snapshot");
            req.put("name", "s" + c + "-" + i);
            req.putArray("volumes").add(any);
            cc.call(req);
            sets.add("s" + c + "-" + i);
        } else if (pick == 7 && !sets.isEmpty()) {
            String s = sets.first();
            call(cc, "snapshot-delete", "name", s);
            sets.remove(s);
        } else {
            // Refused: the name exists (here or at another client's; never changes anything).
            try {
                call(cc, "volume-create", "name", any, "size", 1 << 20);
                throw new AssertionError("creating existing " + any + " was not refused");
            } catch (ControlClient.Refused expected) {
                assertTrue(expected.getMessage().contains("exists"), expected.getMessage());
            }
        }
    }

    private static JsonNode call(ControlClient cc, String op, Object... fields) throws Exception {
        ObjectNode req = ControlProtocol.request(op);
        for (int f = 0; f < fields.length; f += 2) {
            Object v = fields[f + 1];
            if (v instanceof Long l) {
                req.put((String) fields[f], l);
            } else if (v instanceof Integer n) {
                req.put((String) fields[f], n);
            } else {
                req.put((String) fields[f], (String) v);
            }
        }
        return cc.call(req);
    }

    @Test
    @Order(2)
    void metricsPassPromtoolAndMatchStatus() throws Exception {
        p.sh("dd if=/dev/urandom of=w bs=64k count=8 conv=notrunc,fsync status=none").ok();
        Thread.sleep(1500);                             // past the endpoint's one-second reuse of its figures
        String scraped = Sh.run(tmp, List.of("curl", "-sf", "http://127.0.0.1:" + metricsPort + "/metrics")).ok()
                .out();
        Sh.bash(tmp, "promtool check metrics <<'EOF'\n" + scraped + "EOF").ok();
        String text = p.thinfs("status", p.pool.toString(), "--prometheus").ok().out();
        Sh.bash(tmp, "promtool check metrics <<'EOF'\n" + text + "EOF").ok();
        JsonNode st = JSON.readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
        JsonNode list = JSON.readTree(p.thinfs("list", p.pool.toString(), "--json").ok().out());
        String pool = st.path("pool").asText();
        long bs = st.path("dataBlockSize").asLong();
        for (String m : List.of(scraped, text)) {
            Map<String, Double> v = samples(m);
            assertEquals(st.path("dataBlocks").asLong() * bs, v.get("thinfs_data_size_bytes{pool=\"" + pool + "\"}"));
            assertEquals(st.path("metadataBlocks").asLong() * 4096,
                    v.get("thinfs_metadata_size_bytes{pool=\"" + pool + "\"}"));
            assertEquals(st.path("snapshots").size(), v.get("thinfs_snapshot_sets{pool=\"" + pool + "\"}"));
            for (JsonNode vol : st.path("volumes")) {
                String k = "{pool=\"" + pool + "\",volume=\"" + vol.path("name").asText() + "\"}";
                assertEquals(vol.path("size").asLong(), v.get("thinfs_volume_virtual_bytes" + k), k);
                assertEquals(vol.path("provisionedBytes").asLong(), v.get("thinfs_volume_mapped_bytes" + k), k);
            }
        }
        Map<String, Double> v = samples(text);
        for (JsonNode vol : list.path("volumes")) {
            String k = "{pool=\"" + pool + "\",volume=\"" + vol.path("name").asText() + "\"}";
            assertEquals(vol.path("exclusiveBytes").asLong(), v.get("thinfs_volume_exclusive_bytes" + k), k);
        }
        assertEquals(st.path("dataBlocksUsed").asLong() * bs, v.get("thinfs_data_used_bytes{pool=\"" + pool + "\"}"));
        // The daemon counted this test's traffic.
        Map<String, Double> live = samples(scraped);
        assertTrue(live.getOrDefault("thinfs_fuse_bytes_total{op=\"write\",pool=\"" + pool + "\"}", 0.0) >= 8 * BLOCK,
                scraped);
        assertTrue(live.getOrDefault("thinfs_nbd_requests_total{op=\"write\",pool=\"" + pool + "\"}", 0.0) >= 400,
                scraped);
        assertTrue(live.getOrDefault("thinfs_commits_total{pool=\"" + pool + "\"}", 0.0) > 0, scraped);
        assertTrue(scraped.contains("thinfs_commit_duration_seconds_bucket"), scraped);
    }

    /** Sample name with labels (as printed, labels sorted by name) to value. */
    private static Map<String, Double> samples(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int sp = line.lastIndexOf(' ');
            out.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
        }
        return out;
    }
}
