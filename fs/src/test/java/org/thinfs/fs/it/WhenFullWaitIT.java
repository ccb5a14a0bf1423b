package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.thinfs.core.testing.ThinTools;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code when-full=wait} on every path that needs a new data block, as dm-thin queues every bio that needs one: a
 * FUSE write into a hole (the baseline), a FUSE write that breaks sharing after a snapshot (copy on write), the
 * unaligned edges of copy_file_range into a hole, and an NBD write. Each runs on a small full pool (64 blocks of
 * 64 KiB) and must be held (still running after 1.5 s, not failed with ENOSPC), then resume when space comes (a
 * resize, or the rm of another volume) and leave the right bytes and block counts. The negative control runs the
 * same requests with {@code when-full=error}: each fails at once with ENOSPC, which also shows that each really
 * needed a block the pool did not have. import-diff does not reach a mounted pool (it is refused), so it has no
 * wait to check.
 *
 * <p>Why all of them wait: the pool has one data-block allocation, in ThinDevice#plan, reached only through
 * ThinDevice#write, whose loop asks the pool's full handler (AutoExtender#retryAfterFull) before giving ENOSPC.
 * Copy on write is a plan action of that write; copy_file_range moves its edges with ThinDevice#write (and zeroes
 * partial holes with discard, which writes too); NBD WRITE, WRITE_ZEROES and TRIM reach it through VolumeIo.
 */
class WhenFullWaitIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BLOCK = 64 * 1024;
    /** The pool: 64 blocks; the volume {@code a} takes 16 of them, {@code fill} the other 48. */
    private static final String POOL_SIZE = "4M";
    private static final int POOL_BLOCKS = 64;
    /** How long a held writer must still be running to count as held, not failed. */
    private static final long HELD_MILLIS = 1500;
    /** How soon a request must fail with when-full=error to count as failed at once (the wait would be 30 s). */
    private static final long ERROR_BOUND_MILLIS = 10_000;
    /** Where the 4 KiB writes go: inside block 1, so the rest of the block is kept (copy) or zeroed (provision). */
    private static final int OFF = BLOCK + 8192;
    private static final int COPY_OFF = 4096;
    private static final int COPY_LEN = 2 * BLOCK;

    @TempDir
    Path tmp;

    /** copy_file_range(src, dst, len, src_off, dst_off), looping on short copies; exit 1 with the error. */
    private static final String COPY = String.join("\n",
            "import os, sys",
            "s, d, so, do, n = sys.argv[1:6]",
            "a = os.open(s, os.O_RDONLY); b = os.open(d, os.O_WRONLY)",
            "left, so, do = int(n), int(so), int(do)",
            "try:",
            "    while left > 0:",
            "        c = os.copy_file_range(a, b, left, so, do)",
            "        if c == 0: break",
            "        left, so, do = left - c, so + c, do + c",
            "    os.fsync(b)",
            "except OSError as e:",
            "    print('copy_file_range:', e); sys.exit(1)");

    // ---------------------------------------------------------------- the paths

    /** A way to need a new data block on the full pool; each one is started, given space, and checked. */
    enum Route {
        /** The baseline the issue agrees works: a FUSE write into a hole (provisioning). */
        FUSE_WRITE_INTO_A_HOLE,
        /** A FUSE write of 4 KiB over a block of a shared with snapshots/s/a: copy on write needs a new block. */
        FUSE_WRITE_THAT_BREAKS_SHARING,
        /**
         * copy_file_range of a[4 KiB, 132 KiB) to the same range of b, a hole: b's partial head (60 KiB) and tail
         * (4 KiB) need new blocks, the whole block between them is shared with a.
         */
        COPY_FILE_RANGE_INTO_A_HOLE,
        /** qemu-io writing 64 KiB of 0x55 over NBD into b's hole. */
        NBD_WRITE
    }

    @ParameterizedTest
    @EnumSource(Route.class)
    void whenFullWaitHoldsTheRequestUntilSpaceComes(Route route) throws Exception {
        try (MountedPool p = mountedFull("wait", route)) {
            Snapshot before = Snapshot.of(p);
            long t0 = System.nanoTime();
            Process w = start(p, route);
            w.waitFor(HELD_MILLIS, TimeUnit.MILLISECONDS);
            requireHeld(w, route, t0);
            assertEquals(0, free(p), "still full while " + route + " is held");
            requireHeld(w, route, t0);          // again after the status call: a slow start (python3) may fail late
            if (route == Route.COPY_FILE_RANGE_INTO_A_HOLE) {
                p.sh("rm fill").ok();           // space from a delete (free at the next commit) this time
            } else {
                p.thinfs("resize", p.pool.toString(), "--data", "8M").ok();
            }
            if (!w.waitFor(60, TimeUnit.SECONDS)) {
                w.destroyForcibly();
                fail(route + " was not resumed once space came");
            }
            String out = output(w);
            assertEquals(0, w.exitValue(), route + " failed after space came: " + out.strip());
            System.out.printf("%s: held, resumed after %d ms%n", route, (System.nanoTime() - t0) / 1_000_000);
            if (route == Route.NBD_WRITE) {
                assertTrue(out.contains("wrote 65536/65536 bytes"), out);
            }
            expectWritten(p, route, before);
        }
        assertEquals(0, ThinTools.check(tmp.resolve("pool/metadata")).exitCode());
    }

    /**
     * The negative control, on the same routes: with when-full=error each fails at once with ENOSPC and changes
     * nothing (which also shows each route above really needed a block the full pool did not have).
     */
    @ParameterizedTest
    @EnumSource(Route.class)
    void whenFullErrorFailsTheSameRequestAtOnce(Route route) throws Exception {
        try (MountedPool p = mountedFull("error", route)) {
            Snapshot before = Snapshot.of(p);
            long t0 = System.nanoTime();
            Process w = start(p, route);
            // Seen: 15-1900 ms (python3's start is most of it, on a loaded host); the bound only has to be far
            // below the 30 s wait.
            assertTrue(w.waitFor(ERROR_BOUND_MILLIS, TimeUnit.MILLISECONDS), route + " failed at once, not held");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            String out = output(w);
            assertTrue(out.contains("No space left on device"), route + ": " + out);
            assertNotEquals(0, w.exitValue(), out);
            System.out.printf("%s: ENOSPC after %d ms, exit %d: %s%n", route, ms, w.exitValue(), out.strip());
            assertEquals(0, free(p));
            assertArrayEquals(before.a, read(p, "a"), "a unchanged");
            assertArrayEquals(before.b, read(p, "b"), "b unchanged");
        }
    }

    /**
     * import-diff writes through the pool files, never the daemon: a mounted pool is refused, so it has no
     * when-full to honour (the unmounted pool has no daemon that could bring space while it waited).
     */
    @Test
    void importDiffDoesNotReachAMountedPool() throws Exception {
        try (MountedPool p = mountedFull("wait", Route.FUSE_WRITE_INTO_A_HOLE)) {
            Path stream = tmp.resolve("a.diff");
            p.thinfs("export-diff", p.pool.toString(), "-", "a", stream.toString()).ok();
            Sh.Result r = p.thinfs("import-diff", p.pool.toString(), "c", stream.toString());
            assertNotEquals(0, r.code(), r.out());
            assertTrue(r.out().contains("is mounted: unmount it first"), r.out());
        }
    }

    private Process start(MountedPool p, Route route) throws Exception {
        return switch (route) {
            case FUSE_WRITE_INTO_A_HOLE -> start(p, "dd", "if=" + pattern(4096, 0x55), "of=b", "bs=4096",
                    "seek=" + OFF / 4096, "count=1", "conv=notrunc,fsync", "status=none");
            case FUSE_WRITE_THAT_BREAKS_SHARING -> start(p, "dd", "if=" + pattern(4096, 0x55), "of=a", "bs=4096",
                    "seek=" + OFF / 4096, "count=1", "conv=notrunc,fsync", "status=none");
            case COPY_FILE_RANGE_INTO_A_HOLE -> start(p, "python3", "-c", COPY, "a", "b", Integer.toString(COPY_OFF),
                    Integer.toString(COPY_OFF), Integer.toString(COPY_LEN));
            case NBD_WRITE -> start(p, "qemu-io", "-f", "raw", "-c", "write -P 0x55 " + 2 * BLOCK + " 64k",
                    "nbd+unix:///b?socket=" + tmp.resolve("nbd.sock"));
        };
    }

    /** The bytes and the block counts the route leaves once it went through. */
    private void expectWritten(MountedPool p, Route route, Snapshot before) throws Exception {
        byte[] a = before.a.clone();
        byte[] b = before.b.clone();
        long used;
        long bMapped;
        switch (route) {
            case FUSE_WRITE_INTO_A_HOLE -> {
                Arrays.fill(b, OFF, OFF + 4096, (byte) 0x55);
                used = 65;
                bMapped = 1;
            }
            case FUSE_WRITE_THAT_BREAKS_SHARING -> {
                Arrays.fill(a, OFF, OFF + 4096, (byte) 0x55);
                used = 65;
                bMapped = 0;
            }
            case COPY_FILE_RANGE_INTO_A_HOLE -> {
                System.arraycopy(a, COPY_OFF, b, COPY_OFF, COPY_LEN);
                used = 16 + 2;                  // fill is gone; head and tail are new blocks, the middle is shared
                bMapped = 3;
            }
            case NBD_WRITE -> {
                Arrays.fill(b, 2 * BLOCK, 3 * BLOCK, (byte) 0x55);
                used = 65;
                bMapped = 1;
            }
            default -> throw new AssertionError(route);
        }
        assertArrayEquals(a, read(p, "a"), "a");
        assertArrayEquals(b, read(p, "b"), "b");
        assertArrayEquals(before.a, read(p, "snapshots/s/a"), "the snapshot kept its bytes");
        JsonNode s = status(p);
        assertEquals(used, s.get("dataBlocksUsed").asLong(), s.toString());
        assertEquals(bMapped, mapped(s, "b"), s.toString());
    }

    // ---------------------------------------------------------------- helpers

    /**
     * A 64-block pool with {@code when-full=POLICY} (set on the created pool with {@code thinfs set}), mounted (with
     * NBD for the NBD route): {@code a} is 1 MiB of random data, all of it shared with {@code snapshots/s/a}; {@code
     * b} is a 1 MiB hole; {@code fill} (made after the snapshot, so only it holds its blocks) takes the other 48
     * blocks: 0 free.
     */
    private MountedPool mountedFull(String policy, Route route) throws Exception {
        MountedPool p = MountedPool.created(tmp, POOL_SIZE);
        p.thinfs("set", p.pool.toString(), "when-full=" + policy).ok();
        String[] nbd = route == Route.NBD_WRITE ? new String[]{"--nbd", "unix:" + tmp.resolve("nbd.sock")}
                : new String[0];
        // 30 s: long enough for every check here, short enough that a writer never resumed fails the test quickly.
        p.mountWith(Map.of("THINFS_JAVA_OPTS", "-Xmx256m -Dthinfs.whenFullWaitMs=30000"), nbd);
        try {
            p.sh("truncate -s 1M a b && dd if=/dev/urandom of=a bs=64k count=16 conv=notrunc,fsync status=none "
                    + "&& mkdir snapshots/s "
                    + "&& truncate -s 3M fill && dd if=/dev/urandom of=fill bs=64k count=48 conv=notrunc,fsync "
                    + "status=none").ok();
            JsonNode s = status(p);
            assertEquals(policy, s.get("settings").get("whenFull").asText(), s.toString());
            assertEquals(POOL_BLOCKS, s.get("dataBlocks").asLong(), s.toString());
            assertEquals(POOL_BLOCKS, s.get("dataBlocksUsed").asLong(), "the pool is full: " + s);
            return p;
        } catch (Throwable t) {
            p.close();
            throw t;
        }
    }

    private record Snapshot(byte[] a, byte[] b) {
        static Snapshot of(MountedPool p) throws Exception {
            return new Snapshot(read(p, "a"), read(p, "b"));
        }
    }

    private static byte[] read(MountedPool p, String name) throws Exception {
        return Files.readAllBytes(p.mnt.resolve(name));
    }

    private static JsonNode status(MountedPool p) throws Exception {
        return JSON.readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
    }

    private static long free(MountedPool p) throws Exception {
        JsonNode s = status(p);
        return s.get("dataBlocks").asLong() - s.get("dataBlocksUsed").asLong();
    }

    private static long mapped(JsonNode status, String volume) {
        for (JsonNode v : status.get("volumes")) {
            if (v.get("name").asText().equals(volume)) {
                return v.get("mappedBlocks").asLong();
            }
        }
        throw new AssertionError("no volume " + volume + " in " + status);
    }

    /** A file outside the mount of {@code n} bytes of {@code value}. */
    private Path pattern(int n, int value) throws Exception {
        Path f = tmp.resolve("pattern-" + value);
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        Files.write(f, b);
        return f;
    }

    private static Process start(MountedPool p, String... cmd) throws Exception {
        return new ProcessBuilder(List.of(cmd)).directory(p.mnt.toFile()).redirectErrorStream(true).start();
    }

    private static void requireHeld(Process w, Route route, long t0) throws Exception {
        if (!w.isAlive()) {
            fail(route + " on a full pool with when-full=wait was not held: it ended within "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms with exit " + w.exitValue() + ": "
                    + output(w).strip());
        }
    }

    private static String output(Process w) throws Exception {
        return new String(w.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
