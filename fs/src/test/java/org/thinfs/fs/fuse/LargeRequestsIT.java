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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real mount of a file system that records the size of every read and write request it is sent: with the INIT
 * reply amended, a 1 MiB write(2) and a buffered 1 MiB read reach the daemon as one request each; asked for 128 KiB,
 * the same I/O arrives in 128 KiB pieces. The bytes are right either way.
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
        RecordingFs fs = mountAndRun(1 << 20);
        assertEquals(1 << 20, fs.largestWrite.get());
        assertEquals(1 << 20, fs.largestRead.get(), "buffered read: the readahead was raised to 1 MiB too");
        assertEquals(1 << 20, fs.requestSize());
    }

    @Test
    void askedForLibfuse2sLimitTheKernelSplitsTheSameIo() throws Exception {
        RecordingFs fs = mountAndRun(128 << 10);
        assertEquals(128 << 10, fs.largestWrite.get());
        assertEquals(128 << 10, fs.largestRead.get());
        assertEquals(128 << 10, fs.requestSize());
    }

    /** Mounts, writes 4 MiB in 1 MiB write(2) calls, reads it back buffered and cold, compares, unmounts. */
    private RecordingFs mountAndRun(int maxRequest) throws Exception {
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        RecordingFs fs = new RecordingFs();
        Thread server = new Thread(() -> fs.serve(mnt, List.of("-o", Mounter.DEFAULT_OPTIONS), 4, maxRequest),
                "test-fuse");
        server.start();
        try {
            waitForMount(mnt);
            byte[] data = new byte[FILE_SIZE];
            new Random(42).nextBytes(data);
            Path src = dir.resolve("src");
            Files.write(src, data);
            bash("dd if=" + src + " of=" + mnt.resolve("f") + " bs=1M conv=notrunc status=none");
            assertArrayEquals(data, fs.content);
            bash("echo 1 > /proc/sys/vm/drop_caches");
            Path back = dir.resolve("back");
            bash("dd if=" + mnt.resolve("f") + " of=" + back + " bs=1M status=none");
            assertArrayEquals(data, Files.readAllBytes(back));
        } finally {
            fs.umount();
            server.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertTrue(!server.isAlive(), "the session ended after unmount");
        return fs;
    }

    private static void waitForMount(Path mnt) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (BdiReadahead.deviceOf(mnt.toAbsolutePath().toString()) != null
                    && Files.exists(mnt.resolve("f"))) {
                return;
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
