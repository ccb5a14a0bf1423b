package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CI runs the benchmark harness on a tiny size only to prove it works; figures come from on-demand runs. */
class BenchHarnessIT {
    @TempDir
    Path tmp;

    @Test
    void fioHarnessRunsOnATinySize() throws Exception {
        Path script = Path.of("..", "bench", "fio-compare.sh").toAbsolutePath().normalize();
        Sh.Result r = Sh.run(tmp, List.of("bash", script.toString(), "--tiny", "--work", tmp.resolve("w").toString()));
        assertEquals(0, r.code(), r.out());
        for (String target : List.of("ceiling", "ceiling-fresh", "qcow2", "thinfs-fresh", "thinfs-full",
                "thinfs-ext4", "thinfs-cow", "qcow2-snap")) {
            assertTrue(r.out().contains(target), target + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("mkdir snapshots/x:"), r.out());
    }

    @Test
    void snapshotScaleHarnessRunsOnATinySize() throws Exception {
        Path script = Path.of("..", "bench", "snapshot-scale.sh").toAbsolutePath().normalize();
        Sh.Result r = Sh.run(tmp, List.of("bash", script.toString(), "--tiny", "--work", tmp.resolve("s").toString()));
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("1000 +[0-9.]+ +[0-9.]+ +[0-9]+M +[0-9]+M +[0-9.]+ +[0-9]+M")), r.out());
    }

    @Test
    void mkdirUnderLoadHarnessRunsOnATinySize() throws Exception {
        Path script = Path.of("..", "bench", "mkdir-under-load.sh").toAbsolutePath().normalize();
        Sh.Result r = Sh.run(tmp, List.of("bash", script.toString(), "--tiny", "--work", tmp.resolve("m").toString()));
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("mkdir +median +[0-9.]+ ms +p90 +[0-9.]+ ms +slowest +[0-9.]+ ms")),
                r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("writer [0-9]+ MiB/s")), r.out());
    }

    @Test
    void thinCopyHarnessRunsOnATinySize() throws Exception {
        Path script = Path.of("..", "bench", "thin-copy.sh").toAbsolutePath().normalize();
        Sh.Result r = Sh.run(tmp, List.of("bash", script.toString(), "--tiny", "--work", tmp.resolve("c").toString()));
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("copy-out 1G holding 8M: thinfs ") && r.out().contains("clone 64M in place: "),
                r.out());
    }

    /** bench/nbd-compare.sh (issue 34) runs end to end: three servers, every row, ratios computed. */
    @Test
    void nbdCompareHarnessRunsOnATinySize() throws Exception {
        Path script = Path.of("..", "bench", "nbd-compare.sh").toAbsolutePath().normalize();
        Sh.Result r = Sh.run(tmp, List.of("bash", script.toString(), "--tiny", "--dir", tmp.resolve("n").toString()));
        assertEquals(0, r.code(), r.out());
        for (String row : List.of("nbdcopy-in-16M", "nbdcopy-in\\+flush-16M", "nbdcopy-out-16M", "read-4k-qd1",
                "read-1M-qd16", "write-4k-qd16", "write-1M-qd1")) {
            assertTrue(r.out().lines().anyMatch(l -> l.matches(row + "(\\t[0-9.]+){5}")), row + " missing:\n" + r.out());
        }
    }

    /** bench/loop-disk.sh (issue 30) runs end to end: three backings, every step, ratios computed. */
    @Test
    void loopDiskHarnessRunsOnATinySize() throws Exception {
        Path script = Path.of("..", "bench", "loop-disk.sh").toAbsolutePath().normalize();
        Sh.Result r = Sh.run(tmp, List.of("bash", script.toString(), "--tiny", "--work", tmp.resolve("d").toString(),
                "--out", tmp.resolve("loop-disk.md").toString()));
        assertEquals(0, r.code(), r.out());
        for (String step : List.of("`mkfs.ext4", "untar ", "cold read", "`rm -rf`")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("| " + step) && l.matches(".*( [0-9.]+ \\|){5}")),
                    step + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("Space held on the host after mkfs"), r.out());
    }

    /** bench/loop-requests.sh (issue 30) runs end to end: four backings, both requests, ratios computed. */
    @Test
    void loopRequestsHarnessRunsOnATinySize() throws Exception {
        Path script = Path.of("..", "bench", "loop-requests.sh").toAbsolutePath().normalize();
        Sh.Result r = Sh.run(tmp, List.of("bash", script.toString(), "--tiny", "--work", tmp.resolve("q").toString(),
                "--out", tmp.resolve("loop-requests.md").toString()));
        assertEquals(0, r.code(), r.out());
        for (String request : List.of("BLKZEROOUT 2 MiB", "512 KiB O_DIRECT write")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("| " + request) && l.matches(".*( [0-9.]+ \\|){7}")),
                    request + " missing:\n" + r.out());
        }
    }
}
