package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * fsx-style stress from several processes at once: writers (separate Python processes) stamp 4 KiB regions of two
 * volumes, each in its own stripe plus a contended hot range, fsyncing now and then, while this process takes and
 * deletes snapshots. Afterwards every region of a volume holds its writer's last stamp (hot regions: some writer's
 * stamp), no region of a volume or a snapshot is torn, and thin_check passes.
 */
class MultiProcessStressIT {
    private static final int WRITERS = 4;
    private static final int REGION = 4096;
    private static final int STRIPE = 64;          // regions per writer and volume
    private static final int HOT = 16;

    private static final String WRITER = String.join("\n",
            "import os, random, sys, json",
            "me, path_a, path_b, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])",
            "rnd = random.Random(me)",
            "fds = [os.open(path_a, os.O_RDWR), os.open(path_b, os.O_RDWR)]",
            "last = {}",
            "for i in range(1, n + 1):",
            "    v = rnd.randrange(2)",
            "    hot = rnd.randrange(5) == 0",
            "    region = " + WRITERS * STRIPE + " + rnd.randrange(" + HOT + ") if hot else me * " + STRIPE
                    + " + rnd.randrange(" + STRIPE + ")",
            "    stamp = ('w%d i%d' % (me, i)).ljust(31).encode() + b'\\n'",
            "    os.pwrite(fds[v], stamp * (" + REGION + " // 32), region * " + REGION + ")",
            "    if not hot: last['%d:%d' % (v, region)] = stamp.decode().strip()",
            "    if rnd.randrange(20) == 0: os.fsync(fds[v])",
            "print(json.dumps(last))");

    @TempDir
    Path tmp;

    @Test
    void writersInSeveralProcessesWhileSnapshotsComeAndGo() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "512M")) {
            long size = (long) (WRITERS * STRIPE + HOT) * REGION;
            p.sh("truncate -s " + size + " a && truncate -s " + size + " b").ok();
            Path script = tmp.resolve("writer.py");
            Files.writeString(script, WRITER);
            List<Process> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                writers.add(new ProcessBuilder("python3", script.toString(), Integer.toString(w),
                        p.mnt.resolve("a").toString(), p.mnt.resolve("b").toString(), "1500")
                        .redirectErrorStream(false).start());
            }
            int snaps = 0;
            while (writers.stream().anyMatch(Process::isAlive)) {
                Files.createDirectory(p.mnt.resolve("snapshots").resolve("s" + snaps));
                if (snaps >= 3) {
                    p.sh("rm -r snapshots/s" + (snaps - 3)).ok();
                }
                snaps++;
                Thread.sleep(50);
            }
            Map<String, String> last = new HashMap<>();
            for (Process w : writers) {
                String out = new String(w.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                assertEquals(0, w.waitFor(), new String(w.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                for (String kv : out.replaceAll("[{}\"]", "").split(",\\s*")) {
                    if (!kv.isBlank()) {
                        String[] f = kv.split(":\\s*", 3);
                        last.put(f[0] + ":" + f[1], f[2]);
                    }
                }
            }
            assertTrue(snaps >= 3, "snapshots were taken while the writers ran: " + snaps);
            assertTrue(last.size() > 200, "regions with a known last stamp: " + last.size());
            for (int v = 0; v < 2; v++) {
                Path vol = p.mnt.resolve(v == 0 ? "a" : "b");
                for (int r = 0; r < WRITERS * STRIPE + HOT; r++) {
                    String stamp = regionStamp(vol, r);
                    String expect = last.get(v + ":" + r);
                    if (expect != null) {
                        assertEquals(expect, stamp, "volume " + v + " region " + r);
                    }
                }
            }
            try (var sets = Files.list(p.mnt.resolve("snapshots"))) {
                for (Path set : sets.toList()) {
                    for (String vol : List.of("a", "b")) {
                        for (int r = 0; r < WRITERS * STRIPE + HOT; r++) {
                            regionStamp(set.resolve(vol), r);
                        }
                    }
                }
            }
            assertRequestsServedByTheMountsOwnThreads(p);
            p.unmount();
            MountIT.assertCheckedAndNamed(p);
        }
    }

    /**
     * After all that traffic the daemon still has exactly its 16 FUSE threads (named fuse-N) and no thread that
     * libfuse started and the JVM attached (those are named Thread-N): requests never ran on churned threads.
     */
    private static void assertRequestsServedByTheMountsOwnThreads(MountedPool p) throws Exception {
        String pid = Files.readString(p.pool.resolve("thinfs.pid")).trim();
        List<String> names = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc", pid, "task"))) {
            for (Path t : tasks.toList()) {
                names.add(Files.readString(t.resolve("comm")).trim());
            }
        }
        assertEquals(16, names.stream().filter(n -> n.matches("fuse-\\d+")).count(), names.toString());
        assertTrue(names.stream().noneMatch(n -> n.matches("Thread-\\d+")), names.toString());
    }

    /** The stamp a region holds ("" for zeros); fails if the region mixes stamps. */
    private static String regionStamp(Path file, int region) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(REGION);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.read(b, (long) region * REGION);
        }
        String s = new String(b.array(), StandardCharsets.US_ASCII);
        String first = s.substring(0, 32);
        for (int i = 0; i < REGION; i += 32) {
            assertEquals(first, s.substring(i, i + 32), file + " region " + region + " is torn");
        }
        return first.trim().replace("\0", "");
    }
}
