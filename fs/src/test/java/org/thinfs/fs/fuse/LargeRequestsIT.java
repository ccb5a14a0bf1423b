package org.thinfs.fs.fuse;

import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real mount of a file system that records the size of every read and write request it is sent: with the INIT
 * reply amended, a 1 MiB write(2), a 1 MiB O_DIRECT read and a buffered 1 MiB read (readahead raised) each reach
 * the daemon as one request; asked for 128 KiB, the same I/O arrives in 128 KiB pieces. The bytes are right either
 * way.
 */
class LargeRequestsIT {
    private static final int FILE_SIZE = 4 << 20;

    @TempDir
    Path dir;

    /** One in-memory file, /f, that remembers the largest request of each kind. */
    static final class RecordingFs extends PinnedThreadsFuseFS {
        final byte[] content = new byte[FILE_SIZE];
        final AtomicInteger largestWrite = new AtomicInteger();
        final AtomicInteger largestRead = new AtomicInteger();

        @Override
        public int getattr(String path, FileStat stat) {
            if (path.equals("/")) {
                stat.st_mode.set(FileStat.S_IFDIR | 0755);
                stat.st_nlink.set(2);
                return 0;
            }
            if (!path.equals("/f")) {
                return -ErrorCodes.ENOENT();
            }
            stat.st_mode.set(FileStat.S_IFREG | 0644);
            stat.st_nlink.set(1);
            stat.st_size.set(FILE_SIZE);
            return 0;
        }

        @Override
        public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
            filter.apply(buf, "f", null, 0);
            return 0;
        }

        @Override
        public int open(String path, FuseFileInfo fi) {
            return path.equals("/f") ? 0 : -ErrorCodes.ENOENT();
        }

        @Override
        public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
            largestRead.accumulateAndGet((int) size, Math::max);
            int n = (int) Math.max(0, Math.min(size, FILE_SIZE - offset));
            buf.put(0, content, (int) offset, n);
            return n;
        }

        @Override
        public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
            largestWrite.accumulateAndGet((int) size, Math::max);
            if (offset + size > FILE_SIZE) {
                return -ErrorCodes.EFBIG();
            }
            buf.get(0, content, (int) offset, (int) size);
            return (int) size;
        }
    }

    @Test
    void oneMebibyteIoArrivesAsOneRequest() throws Exception {
        Run run = mountAndRun(1 << 20);
        assertEquals(1 << 20, run.fs.requestSize());
        assertEquals(1 << 20, run.largestWrite);
        assertEquals(1 << 20, run.largestDirectRead);
        assertEquals(1024, run.readaheadKib, "the mount's readahead follows the request size (we are root)");
        assertEquals(1 << 20, run.largestBufferedRead);
    }

    @Test
    void askedForLibfuse2sLimitTheKernelSplitsTheSameIo() throws Exception {
        Run run = mountAndRun(128 << 10);
        assertEquals(128 << 10, run.fs.requestSize());
        assertEquals(128 << 10, run.largestWrite);
        assertEquals(128 << 10, run.largestDirectRead);
        assertEquals(128 << 10, run.largestBufferedRead);
    }

    private record Run(RecordingFs fs, int largestWrite, int largestDirectRead, int largestBufferedRead,
                       int readaheadKib) {
    }

    /**
     * Mounts; writes 4 MiB in 1 MiB write(2) calls; reads it back with O_DIRECT, then buffered from a cold page
     * cache; compares both with what was written; unmounts.
     */
    private Run mountAndRun(int maxRequest) throws Exception {
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        RecordingFs fs = new RecordingFs();
        Thread server = new Thread(() -> fs.serve(mnt, List.of("-o", Mounter.DEFAULT_OPTIONS), 4, maxRequest),
                "test-fuse");
        server.start();
        Run run;
        try {
            String device = waitForMount(mnt);
            byte[] data = new byte[FILE_SIZE];
            new Random(42).nextBytes(data);
            Path src = dir.resolve("src");
            Files.write(src, data);
            Path f = mnt.resolve("f");
            bash("dd if=" + src + " of=" + f + " bs=1M conv=notrunc status=none");
            assertArrayEquals(data, fs.content);
            int written = fs.largestWrite.get();

            Path back = dir.resolve("back");
            bash("dd if=" + f + " of=" + back + " bs=1M iflag=direct status=none");
            assertArrayEquals(data, Files.readAllBytes(back));
            int direct = fs.largestRead.getAndSet(0);

            bash("echo 1 > /proc/sys/vm/drop_caches");
            bash("dd if=" + f + " of=" + back + " bs=1M status=none");
            assertArrayEquals(data, Files.readAllBytes(back));
            int readahead = Integer.parseInt(
                    Files.readString(Path.of("/sys/class/bdi", device, "read_ahead_kb")).trim());
            run = new Run(fs, written, direct, fs.largestRead.get(), readahead);
        } finally {
            fs.umount();
            server.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertFalse(server.isAlive(), "the session ended after unmount");
        return run;
    }

    /** Waits until the mount answers; returns its device number (MAJOR:MINOR). */
    private static String waitForMount(Path mnt) throws Exception {
        for (int i = 0; i < 200; i++) {
            String device = BdiReadahead.deviceOf(mnt.toAbsolutePath().toString());
            if (device != null && Files.exists(mnt.resolve("f"))) {
                return device;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not mounted: " + mnt);
    }

    private static void bash(String script) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + script);
        assertEquals(0, p.exitValue(), script + ": " + out);
    }
}
