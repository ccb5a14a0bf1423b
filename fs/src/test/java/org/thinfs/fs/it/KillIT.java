package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILL of the mounted daemon at random moments while a verifying writer runs (writes, fsyncs, snapshots that make
 * later writes copy on write, deletes of snapshot sets). After every remount: thin_check passes, the catalog names
 * exactly the metadata's devices, every byte fsynced before the kill reads back (or a later version of it), no
 * block shows data that was never written there, and every snapshot set whose {@code mkdir} returned before the
 * kill is there with the content the volume had when it was taken (namespace changes are durable on return).
 *
 * <p>Iterations: {@code -Dthinfs.kill.iterations=N} (default 6, seeds 1..N).
 */
class KillIT {
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 4096;          // a 16 MiB volume

    @TempDir
    Path tmp;

    @Test
    void killNineAtRandomMomentsLosesNothingFsynced() throws Exception {
        int iterations = Integer.getInteger("thinfs.kill.iterations", 6);
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.sh("truncate -s " + (long) BLOCKS * BLOCK + " vol").ok();
            // Per block: every version ever written (a version is the seq stamped in it), and the last fsynced one.
            Map<Integer, List<Long>> versions = new HashMap<>();
            Map<Integer, Long> synced = new HashMap<>();
            // Snapshot sets whose mkdir returned, with the volume's content then (block -> version), until deleted.
            Map<String, Map<Integer, Long>> snapshots = new java.util.LinkedHashMap<>();
            for (int it = 1; it <= iterations; it++) {
                Random rnd = new Random(it);
                AtomicBoolean stop = new AtomicBoolean();
                Path vol = p.mnt.resolve("vol");
                Thread writer = new Thread(() -> write(vol, p.mnt, rnd, versions, synced, snapshots, stop));
                writer.start();
                Thread.sleep(200 + rnd.nextInt(1500));
                long pid = p.daemonPid();
                Sh.run(tmp, List.of("kill", "-9", Long.toString(pid))).ok();
                ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
                stop.set(true);
                writer.join(30_000);
                p.afterKill(pid);
                assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "iteration " + it);
                p.mount();
                verify(vol, versions, synced, "iteration " + it);
                verifySnapshots(p.mnt, snapshots, "iteration " + it);
            }
            assertTrue(synced.size() > 200, "the writer made enough blocks durable to test: " + synced.size());
            p.unmount();
            MountIT.assertCheckedAndNamed(p);
        }
    }

    /**
     * Kills the daemon while it deletes a large volume and while it grows the pool: after remount the volume is
     * either whole or gone (never half), the size is the old or the new one, and nothing is left unnamed.
     */
    @Test
    void killDuringRemovalOfALargeVolumeAndDuringResize() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "512M")) {
            p.sh("truncate -s 256M big && dd if=/dev/urandom of=big bs=1M count=96 conv=notrunc,fsync status=none"
                    + " && sha256sum < big > " + tmp.resolve("big.sum")).ok();
            for (int round = 0; round < 3; round++) {
                long pid = Long.parseLong(Files.readString(p.pool.resolve("thinfs.pid")).trim());
                Process rm = new ProcessBuilder("bash", "-c", round == 2
                        ? "java -jar " + MountedPool.JAR + " resize " + p.pool + " --data 1G"
                        : "rm " + p.mnt.resolve("big") + " && sync").start();
                Thread.sleep(new Random(round).nextInt(round == 2 ? 1500 : 300));
                Sh.run(tmp, List.of("kill", "-9", Long.toString(pid))).ok();
                ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
                rm.destroyForcibly().waitFor();
                Sh.run(tmp, List.of("fusermount", "-u", "-z", p.mnt.toString()));
                Files.deleteIfExists(p.pool.resolve("thinfs.pid"));
                assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "round " + round);
                p.mount();
                if (Files.exists(p.mnt.resolve("big"))) {
                    assertEquals(Files.readString(tmp.resolve("big.sum")), p.sh("sha256sum < big").ok().out(),
                            "round " + round + ": the volume survived whole");
                } else {
                    p.sh("truncate -s 256M big && dd if=/dev/urandom of=big bs=1M count=96 conv=notrunc,fsync "
                            + "status=none && sha256sum < big > " + tmp.resolve("big.sum")).ok();
                }
                String df = p.sh("df -B1M --output=size . | tail -1").ok().out().trim();
                assertTrue(df.equals("512") || df.equals("1024"), "size is the old or the new one: " + df);
            }
            p.unmount();
            MountIT.assertCheckedAndNamed(p);
        }
    }

    /** Writes stamped blocks until the daemon dies; fsyncs now and then and records what is then durable. */
    private static void write(Path vol, Path mnt, Random rnd, Map<Integer, List<Long>> versions,
                              Map<Integer, Long> synced, Map<String, Map<Integer, Long>> snapshots,
                              AtomicBoolean stop) {
        Map<Integer, Long> sinceSync = new HashMap<>();
        ByteBuffer buf = ByteBuffer.allocate(BLOCK);
        try (FileChannel ch = FileChannel.open(vol, StandardOpenOption.WRITE)) {
            for (long seq = System.nanoTime(); !stop.get(); seq++) {
                int b = rnd.nextInt(BLOCKS);
                buf.clear();
                while (buf.hasRemaining()) {
                    buf.putLong(seq);
                }
                buf.flip();
                synchronized (versions) {
                    versions.computeIfAbsent(b, k -> new ArrayList<>()).add(seq);
                }
                ch.write(buf, (long) b * BLOCK);
                sinceSync.put(b, seq);
                int r = rnd.nextInt(100);
                if (r < 10) {
                    ch.force(false);
                    synchronized (versions) {
                        synced.putAll(sinceSync);
                    }
                    sinceSync.clear();
                } else if (r == 10) {
                    Files.createDirectory(mnt.resolve("snapshots").resolve("s" + seq));
                    Map<Integer, Long> content = new HashMap<>();
                    synchronized (versions) {
                        versions.forEach((blk, w) -> content.put(blk, w.get(w.size() - 1)));
                        snapshots.put("s" + seq, content);
                    }
                } else if (r == 11) {
                    try (var sets = Files.list(mnt.resolve("snapshots"))) {
                        for (Path s : sets.toList()) {
                            synchronized (versions) {
                                snapshots.remove(s.getFileName().toString());   // from now on it may be gone
                            }
                            Files.deleteIfExists(s.resolve("vol"));
                            Files.deleteIfExists(s);
                            break;
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // The daemon was killed under us: expected.
        }
    }

    /**
     * Every snapshot set the model holds exists; the two newest hold, block by block, the version the volume had
     * when their mkdir returned (reading every set would cost 16 MiB each).
     */
    private static void verifySnapshots(Path mnt, Map<String, Map<Integer, Long>> snapshots, String where)
            throws IOException {
        List<String> names = new ArrayList<>(snapshots.keySet());   // the writer has stopped
        ByteBuffer buf = ByteBuffer.allocate(BLOCK);
        for (int i = 0; i < names.size(); i++) {
            Path f = mnt.resolve("snapshots").resolve(names.get(i)).resolve("vol");
            assertTrue(Files.exists(f), where + ": snapshot set " + names.get(i) + " was reported made, and is gone");
            if (i < names.size() - 2) {
                continue;
            }
            Map<Integer, Long> content = snapshots.get(names.get(i));
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                for (int b = 0; b < BLOCKS; b++) {
                    buf.clear();
                    ch.read(buf, (long) b * BLOCK);
                    assertEquals(content.getOrDefault(b, 0L).longValue(), buf.getLong(0),
                            where + ": snapshot " + names.get(i) + " block " + b);
                }
            }
        }
    }

    private static void verify(Path vol, Map<Integer, List<Long>> versions, Map<Integer, Long> synced, String where)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(BLOCK);
        try (FileChannel ch = FileChannel.open(vol, StandardOpenOption.READ)) {
            for (int b = 0; b < BLOCKS; b++) {
                buf.clear();
                ch.read(buf, (long) b * BLOCK);
                long first = buf.getLong(0);
                for (int i = 0; i < BLOCK; i += 8) {
                    assertEquals(first, buf.getLong(i), where + ": block " + b + " is torn");
                }
                List<Long> written;
                Long durable;
                synchronized (versions) {
                    written = versions.getOrDefault(b, List.of());
                    durable = synced.get(b);
                }
                if (durable == null) {
                    assertTrue(first == 0 || written.contains(first), where + ": block " + b + " holds " + first
                            + ", never written there");
                } else {
                    int at = written.indexOf(first);
                    assertTrue(at >= written.indexOf(durable), where + ": block " + b + " lost its fsynced version "
                            + durable + " (holds " + first + ")");
                }
                // What survived is now the baseline for the next iteration.
                synchronized (versions) {
                    if (first != 0) {
                        List<Long> w = versions.get(b);
                        w.subList(0, w.indexOf(first)).clear();
                        w.subList(1, w.size()).clear();
                        synced.put(b, first);
                    } else {
                        versions.remove(b);
                        synced.remove(b);
                    }
                }
            }
        }
    }
}
