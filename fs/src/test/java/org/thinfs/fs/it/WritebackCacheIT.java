package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With {@code --writeback-cache} the kernel holds small writes in its page cache, so "the write returned" no longer
 * means the daemon has it. Every operation that promises to include the writes before it must still include them:
 * a snapshot, a clone and a restore taken right after unsynced writes, each followed at once by a kill -9 of the
 * daemon (nothing but the operation itself may have made them durable); SEEK_DATA right after a write; and fsync.
 * The whole suite also runs with the cache on under {@code -Dthinfs.it.writebackCache=true}.
 */
class WritebackCacheIT {
    private static final int SIZE = 8 << 20;

    @TempDir
    Path tmp;

    @Test
    void snapshotCloneRestoreAndSeekSeeWritesTheKernelStillHolds() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.unmount();
            remountWithCache(p);
            Path devBdi = Path.of("/sys/class/bdi", Sh.bash(tmp, "mountpoint -d " + p.mnt).ok().out().trim());
            assertEquals("0", Files.readString(devBdi.resolve("strict_limit")).trim(),
                    "the writeback cache is on (its dirty-page share was widened)");
            p.sh("truncate -s " + SIZE + " vol").ok();
            // The writes come from another process that keeps the file open through each operation: any close of
            // the file, even by a child inheriting the descriptor for a moment, writes its dirty pages back.
            Writer w = new Writer(p.mnt.resolve("vol"), 1, tmp.resolve("model"));
            byte[] model = w.model;

            // snapshot, then kill -9 at once: the snapshot must hold every write that returned before it
            long pid = p.daemonPid();
            p.sh("mkdir snapshots/s1 && kill -9 " + pid).ok();
            w.close();
            p.afterKill(pid);
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
            remountWithCache(p);
            assertArrayEquals(model, Files.readAllBytes(p.mnt.resolve("snapshots/s1/vol")), "snapshot after kill");
            byte[] snap = model.clone();

            // clone
            w = new Writer(p.mnt.resolve("vol"), 2, tmp.resolve("model"));
            model = w.model;
            pid = p.daemonPid();
            p.sh("ln vol clone && kill -9 " + pid).ok();
            w.close();
            p.afterKill(pid);
            remountWithCache(p);
            assertArrayEquals(model, Files.readAllBytes(p.mnt.resolve("clone")), "clone after kill");

            // restore over a volume with unsynced writes: none of them may land in the restored volume
            w = new Writer(p.mnt.resolve("vol"), 3, tmp.resolve("model"));
            pid = p.daemonPid();
            p.sh("mv snapshots/s1/vol vol && kill -9 " + pid).ok();
            w.close();
            p.afterKill(pid);
            remountWithCache(p);
            assertArrayEquals(snap, Files.readAllBytes(p.mnt.resolve("vol")), "restored volume after kill");

            // SEEK_DATA sees data that is only in the kernel's cache
            p.sh("truncate -s " + SIZE + " sparse").ok();
            String seek = Sh.bash(p.mnt, "python3 -c 'import os; w=os.open(\"sparse\", os.O_WRONLY); "
                    + "os.pwrite(w, b\"abc\", 5 << 20); r=os.open(\"sparse\", os.O_RDONLY); "
                    + "print(os.lseek(r, 0, os.SEEK_DATA))'").ok().out().trim();
            assertEquals(Long.toString((5 << 20) / (64 << 10) * (64 << 10)), seek, "SEEK_DATA finds the new block");

            // fsync makes a write durable through the kernel's cache and the daemon
            byte[] last = new byte[4096];
            Arrays.fill(last, (byte) 0x5A);
            try (FileChannel ch = FileChannel.open(p.mnt.resolve("clone"), StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(last), 4096);
                ch.force(false);
            }
            p.kill9();
            remountWithCache(p);
            byte[] got = new byte[4096];
            System.arraycopy(Files.readAllBytes(p.mnt.resolve("clone")), 4096, got, 0, 4096);
            assertArrayEquals(last, got, "an fsynced write survives kill -9");
            p.unmount();
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
        }
    }

    private static void remountWithCache(MountedPool p) throws Exception {
        if (MountedPool.WRITEBACK_CACHE) {
            p.mount();
        } else {
            p.mount("--writeback-cache");
        }
        assertTrue(p.mounted());
    }

    /**
     * A python process making 300 small buffered writes (seeded) to {@code file} without fsync, holding the file open
     * until {@link #close}; {@link #model} is the file's content as those writes left it.
     */
    private static final class Writer implements AutoCloseable {
        private static final String SCRIPT = String.join("\n",
                "import os, random, sys",
                "r = random.Random(int(sys.argv[2]))",
                "f = os.open(sys.argv[1], os.O_RDWR)",
                "model = bytearray(os.pread(f, os.fstat(f).st_size, 0))",
                "for i in range(300):",
                "    n = 1 + r.randrange(6000); off = r.randrange(len(model) - n)",
                "    b = bytes(r.randrange(256) for _ in range(n))",
                "    os.pwrite(f, b, off); model[off:off + n] = b",
                "open(sys.argv[3], 'wb').write(model)",
                "print('ready', flush=True)",
                "sys.stdin.read()");
        private final Process process;
        final byte[] model;

        Writer(Path file, int seed, Path modelFile) throws Exception {
            process = new ProcessBuilder("python3", "-c", SCRIPT, file.toString(), Integer.toString(seed),
                    modelFile.toString()).redirectErrorStream(true).start();
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream())).readLine();
            assertEquals("ready", line, "the writer process started");
            model = Files.readAllBytes(modelFile);
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            process.waitFor();
        }
    }
}
