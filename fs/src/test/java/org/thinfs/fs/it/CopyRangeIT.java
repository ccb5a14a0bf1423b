package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * copy_file_range through a real mount shares blocks: seeded random aligned and unaligned copies between volumes,
 * from a snapshot and within a volume, against a byte model, then thin_check and thinfs check; `cp` of a fully
 * written volume adds almost nothing to `df`; a kill -9 in the middle of a long copy leaves every block of the
 * destination either as it was or as the source, with a clean thin_check. Seed and copy index in every message.
 */
class CopyRangeIT {
    private static final int BLOCK = 64 * 1024;
    private static final int SIZE = 32 * BLOCK;

    @TempDir
    Path tmp;

    /** copy_file_range(src, dst, len, src_off, dst_off) for every "SRC DST SRCOFF DSTOFF LEN" line. */
    private static final String COPY = String.join("\n",
            "import os, sys",
            "for line in open(sys.argv[1]):",
            "    s, d, so, do, n = line.split()",
            "    a = os.open(s, os.O_RDONLY); b = os.open(d, os.O_WRONLY)",
            "    left, so, do = int(n), int(so), int(do)",
            "    while left > 0:",
            "        c = os.copy_file_range(a, b, left, so, do)",
            "        if c == 0: break",
            "        left, so, do = left - c, so + c, do + c",
            "    os.close(a); os.close(b)");

    @Test
    void randomCopiesBetweenVolumesAndFromSnapshotsMatchTheModel() throws Exception {
        long seed = Long.getLong("thinfs.copyit.seed", 47);
        Random rnd = new Random(seed);
        try (MountedPool p = new MountedPool(tmp, "128M")) {
            String[] names = {"a", "b", "c"};
            byte[][] model = new byte[3][SIZE];
            for (int i = 0; i < 3; i++) {
                rnd.nextBytes(model[i]);
                for (int z = 0; z < 6; z++) {                        // holes too
                    int blk = rnd.nextInt(32);
                    java.util.Arrays.fill(model[i], blk * BLOCK, (blk + 1) * BLOCK, (byte) 0);
                }
                Files.write(p.mnt.resolve(names[i]), model[i]);
                p.sh("fallocate --dig-holes " + names[i]).ok();
            }
            p.sh("mkdir snapshots/s").ok();
            byte[][] snap = {model[0].clone(), model[1].clone(), model[2].clone()};
            StringBuilder ops = new StringBuilder();
            for (int k = 0; k < 60; k++) {
                int a = rnd.nextInt(3);
                int b = rnd.nextInt(3);
                boolean fromSnap = rnd.nextInt(4) == 0;
                boolean aligned = rnd.nextBoolean();
                int so = aligned ? BLOCK * rnd.nextInt(30) : rnd.nextInt(SIZE - 1);
                int dOff = aligned ? BLOCK * rnd.nextInt(30) : rnd.nextInt(SIZE - 1);
                int len = rnd.nextInt(Math.min(SIZE - so, SIZE - dOff));
                if (!fromSnap && a == b && so < dOff + len && dOff < so + len) {
                    continue;
                }
                byte[] src = fromSnap ? snap[a] : model[a];
                System.arraycopy(src.clone(), so, model[b], dOff, len);
                ops.append(fromSnap ? "snapshots/s/" + names[a] : names[a]).append(' ').append(names[b]).append(' ')
                        .append(so).append(' ').append(dOff).append(' ').append(len).append('\n');
                if (k % 10 == 9) {                                   // writes on both sides copy on write
                    int w = rnd.nextInt(3);
                    int at = rnd.nextInt(SIZE - 8);
                    flushOps(p, ops);
                    try (FileChannel ch = FileChannel.open(p.mnt.resolve(names[w]), StandardOpenOption.WRITE)) {
                        ch.write(ByteBuffer.wrap("written!".getBytes()), at);
                    }
                    System.arraycopy("written!".getBytes(), 0, model[w], at, 8);
                    for (int i = 0; i < 3; i++) {
                        assertArrayEquals(model[i], Files.readAllBytes(p.mnt.resolve(names[i])),
                                "seed " + seed + " after copy " + k + ": " + names[i]);
                    }
                }
            }
            flushOps(p, ops);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(model[i], Files.readAllBytes(p.mnt.resolve(names[i])), "seed " + seed + ": " + names[i]);
                assertArrayEquals(snap[i], Files.readAllBytes(p.mnt.resolve("snapshots/s/" + names[i])),
                        "seed " + seed + ": the snapshot of " + names[i] + " is untouched");
            }
            p.unmount();
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
            Sh.Result check = p.thinfs("check", p.pool.toString());
            assertEquals(0, check.code(), check.out());
            // Shared blocks: thinfs ls counts them as thin_ls does (the same fields, device by device).
            String fields = "DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS";
            java.util.Map<String, String> theirs = new java.util.TreeMap<>();
            long shared = 0;
            for (ThinTools.LsRow r : ThinTools.lsRows(p.pool.resolve("metadata"), fields)) {
                theirs.put(r.fields().get("DEV"), r.fields().get("MAPPED_BLOCKS") + " "
                        + r.fields().get("EXCLUSIVE_BLOCKS") + " " + r.fields().get("SHARED_BLOCKS"));
                shared += r.number("SHARED_BLOCKS");
            }
            java.util.Map<String, String> ours = new java.util.TreeMap<>();
            for (ThinTools.LsRow r : ThinTools.parseLs(p.thinfs("ls", p.pool.toString()).ok().out())) {
                ours.put(r.fields().get("DEV"), r.fields().get("MAPPED_BLOCKS") + " "
                        + r.fields().get("EXCLUSIVE_BLOCKS") + " " + r.fields().get("SHARED_BLOCKS"));
            }
            assertEquals(theirs, ours, "thinfs ls against thin_ls");
            assertTrue(shared > 0, "the copies share blocks: " + theirs);
        }
    }

    /** Mapped blocks of a volume, live from the daemon. */
    private static long mapped(MountedPool p, String volume) throws Exception {
        com.fasterxml.jackson.databind.JsonNode st = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
        for (com.fasterxml.jackson.databind.JsonNode v : st.get("volumes")) {
            if (v.get("name").asText().equals(volume)) {
                return v.get("mappedBlocks").asLong();
            }
        }
        return 0;
    }

    private void flushOps(MountedPool p, StringBuilder ops) throws Exception {
        if (ops.length() == 0) {
            return;
        }
        Path f = tmp.resolve("ops");
        Files.writeString(f, ops);
        p.sh("python3 -c '" + COPY.replace("'", "'\\''") + "' " + f).ok();
        ops.setLength(0);
    }

    @Test
    void cpOfAFullVolumeIsBlockSharingAndAKillMidCopyLeavesEitherState() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "2G")) {
            p.sh("dd if=/dev/urandom of=full bs=1M count=1024 conv=fsync status=none").ok();
            long usedBefore = usedMiB(p);
            long t0 = System.nanoTime();
            p.sh("cp full copy && cmp full copy").ok();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(usedMiB(p) - usedBefore <= 2, "a copy of 1 GiB added " + (usedMiB(p) - usedBefore)
                    + " MiB to df (took " + ms + " ms)");
            p.sh("echo changed | dd of=copy conv=notrunc status=none && ! cmp -s full copy").ok();

            // A long copy, unaligned on purpose (bytes move, about a second's work), killed in the middle.
            p.sh("truncate -s 256M dst").ok();
            Path ops = tmp.resolve("ops");
            Files.writeString(ops, p.mnt.resolve("full") + " " + p.mnt.resolve("dst") + " 1 3 268435000\n");
            long pid = p.daemonPid();
            Process copy = new ProcessBuilder("python3", "-c", COPY, ops.toString()).start();
            // Kill once the copy has visibly begun (the live status shows dst's first blocks) and two commit
            // intervals have passed since: a fixed sleep raced with a slow start on a loaded machine.
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (mapped(p, "dst") == 0 && System.nanoTime() < deadline && copy.isAlive()) {
                Thread.sleep(50);
            }
            Thread.sleep(700 + new Random(5).nextInt(400));
            Sh.run(tmp, List.of("kill", "-9", Long.toString(pid))).ok();
            p.afterKill(pid);
            copy.destroyForcibly().waitFor();
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check after the kill");
            p.mount();
            // Every byte of dst is as it was (zero) or the source's byte: dst[o] = full[o - 2] for o >= 3.
            byte[] src = new byte[BLOCK + 2];
            byte[] dst = new byte[BLOCK];
            long copied = 0;
            try (FileChannel f = FileChannel.open(p.mnt.resolve("full")); FileChannel d = FileChannel.open(
                    p.mnt.resolve("dst"))) {
                for (long off = 0; off < d.size(); off += BLOCK) {
                    java.util.Arrays.fill(src, (byte) 0);
                    f.read(ByteBuffer.wrap(src, off == 0 ? 2 : 0, off == 0 ? BLOCK : BLOCK + 2), Math.max(0, off - 2));
                    d.read(ByteBuffer.wrap(dst), off);
                    for (int i = 0; i < BLOCK; i++) {
                        boolean asSource = off + i >= 3 && dst[i] == src[i];
                        assertTrue(dst[i] == 0 || asSource, "dst byte " + (off + i) + " is neither zero nor the copy");
                        copied += asSource && dst[i] != 0 ? 1 : 0;
                    }
                }
            }
            assertTrue(copied > 0, "part of the copy was made durable before the kill");
            p.unmount();
        }
    }

    /** The README's recipe, as examples/range-restore.sh scripts it: range restore, in-place restore, backup. */
    @Test
    void theRangeRestoreExampleRuns() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "1G")) {
            Path script = Path.of("../examples/range-restore.sh").toAbsolutePath().normalize();
            Sh.Result r = Sh.run(tmp, List.of("bash", script.toString(), p.mnt.toString(), "demo")).ok();
            assertTrue(r.out().contains("identical to the snapshot") && r.out().contains("16M on disk of 4.0G"),
                    r.out());
        }
    }

    private static long usedMiB(MountedPool p) throws Exception {
        return Long.parseLong(p.sh("df -B1M --output=used . | tail -1").ok().out().trim());
    }
}
