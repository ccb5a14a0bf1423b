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
        Sh.Result r = runTiny("fio-compare.sh", "--work", tmp.resolve("w").toString());
        for (String target : List.of("ceiling", "ceiling-fresh", "qcow2", "thinfs-fresh", "thinfs-full",
                "thinfs-ext4", "thinfs-cow", "qcow2-snap")) {
            assertTrue(r.out().contains(target), target + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("mkdir snapshots/x:"), r.out());
    }

    @Test
    void snapshotScaleHarnessRunsOnATinySize() throws Exception {
        Sh.Result r = runTiny("snapshot-scale.sh", "--work", tmp.resolve("s").toString());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("1000 +[0-9.]+ +[0-9.]+ +[0-9]+M +[0-9]+M +[0-9.]+ +[0-9]+M")), r.out());
    }

    @Test
    void mkdirUnderLoadHarnessRunsOnATinySize() throws Exception {
        Sh.Result r = runTiny("mkdir-under-load.sh", "--work", tmp.resolve("m").toString());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("mkdir +median +[0-9.]+ ms +p90 +[0-9.]+ ms +slowest +[0-9.]+ ms")),
                r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("writer [0-9]+ MiB/s")), r.out());
    }

    @Test
    void thinCopyHarnessRunsOnATinySize() throws Exception {
        Sh.Result r = runTiny("thin-copy.sh", "--work", tmp.resolve("c").toString());
        assertTrue(r.out().contains("copy-out 1G holding 8M: thinfs ") && r.out().contains("clone 64M in place: "),
                r.out());
    }

    /** bench/nbd-compare.sh (issue 34) runs end to end: three servers, every row, ratios computed. */
    @Test
    void nbdCompareHarnessRunsOnATinySize() throws Exception {
        Sh.Result r = runTiny("nbd-compare.sh", "--dir", tmp.resolve("n").toString());
        for (String row : List.of("nbdcopy-in-16M", "nbdcopy-in\\+flush-16M", "nbdcopy-out-16M", "read-4k-qd1",
                "read-1M-qd16", "write-4k-qd16", "write-1M-qd1")) {
            assertTrue(r.out().lines().anyMatch(l -> l.matches(row + "(\\t[0-9.]+){5}")), row + " missing:\n" + r.out());
        }
    }

    /**
     * bench/loop-disk.sh (issue 30) runs end to end: four backings (the FUSE floor, qemu-raw, too), every step, ratios
     * computed, and mkfs timed in the extra round --mkfs-rounds asks for.
     */
    @Test
    void loopDiskHarnessRunsOnATinySize() throws Exception {
        Sh.Result r = runTiny("loop-disk.sh", "--fuse-floor", "--mkfs-rounds", "2", "--work", tmp.resolve("d").toString(),
                "--out", tmp.resolve("loop-disk.md").toString());
        for (String step : List.of("`mkfs.ext4", "untar ", "cold read", "`rm -rf`")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("| " + step) && l.matches(".*( [0-9.]+ \\|){7}")),
                    step + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("| qemu-raw | qemu-raw/thinfs |"), r.out());
        // Two mkfs samples per backing (raw / thinfs / qcow2 / qemu-raw), one of each other step.
        assertTrue(r.out().lines().anyMatch(l -> l.matches("- mkfs:( [0-9.]+ [0-9.]+ /){3} [0-9.]+ [0-9.]+")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("- untar:( [0-9.]+ /){3} [0-9.]+")), r.out());
        assertTrue(r.out().contains("Space held on the host after mkfs"), r.out());
    }

    /** bench/loop-requests.sh (issue 30) runs end to end: four backings, both requests, ratios computed. */
    @Test
    void loopRequestsHarnessRunsOnATinySize() throws Exception {
        Sh.Result r = runTiny("loop-requests.sh", "--work", tmp.resolve("q").toString(),
                "--out", tmp.resolve("loop-requests.md").toString());
        for (String request : List.of("BLKZEROOUT 2 MiB", "512 KiB O_DIRECT write")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("| " + request) && l.matches(".*( [0-9.]+ \\|){7}")),
                    request + " missing:\n" + r.out());
        }
    }

    /** Runs {@code bench/SCRIPT --tiny ARGS...} and requires it to succeed. */
    private Sh.Result runTiny(String script, String... args) throws Exception {
        Path path = Path.of("..", "bench", script).toAbsolutePath().normalize();
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", path.toString(), "--tiny"));
        cmd.addAll(List.of(args));
        Sh.Result r = Sh.run(tmp, cmd);
        assertEquals(0, r.code(), r.out());
        return r;
    }
}
