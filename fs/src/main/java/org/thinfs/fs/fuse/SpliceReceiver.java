package org.thinfs.fs.fuse;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Out;
import org.thinfs.core.pool.ExternalBytes;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A worker's way of reading requests from {@code /dev/fuse} that leaves a large write's payload in the kernel: the
 * request is spliced into the worker's pipe, where the kernel puts references to the writer's pages rather than a
 * copy (fs/fuse/dev.c, fuse_dev_splice_read), then only the header is read into the worker's buffer. A write that
 * the pool makes in place (ThinDevice#writeInPlaceFrom) splices the payload on into the data file; any other
 * request, and a write the pool declines, is read whole into the buffer as before.
 *
 * <p>Why: at queue depth 1 a buffered 1 MiB write through FUSE is three copies, the writer's into the FUSE page
 * cache, the kernel's into the daemon's buffer and the daemon's into the data file, and every FUSE server that reads
 * requests (the jnr-fuse passthrough, qemu-storage-daemon's export) makes all three (BENCHMARKS.md, session 19). This
 * makes two of them for writes in place.
 *
 * <p>Invariant: between requests the pipe is empty. Every path out of a request either moves the whole payload into
 * the data file, reads it into the buffer, or discards what is left ({@link #discardRest}); a pipe left holding bytes
 * would turn the next request into garbage, so a failure to empty it ends the worker's use of splice for good.
 *
 * <p>Not used (the plain read instead) where the pipe cannot hold the largest request (F_SETPIPE_SZ refused: an
 * unprivileged user past {@code /proc/sys/fs/pipe-max-size}), or with {@code -Dthinfs.fuseSplice=false}.
 */
final class SpliceReceiver implements ExternalBytes, AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SpliceReceiver.class);
    static final boolean ENABLED = !"false".equals(System.getProperty("thinfs.fuseSplice"));
    /** Writes at least this large are left in the pipe: below it, one more system call costs more than the copy. */
    static final int MIN_PAYLOAD = Integer.getInteger("thinfs.fuseSpliceMin", 128 << 10);
    private static final int O_WRONLY = 1;
    private static final int O_CLOEXEC = 0x80000;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int SPLICE_F_MOVE = 1;
    private static final int EINTR = 4;
    /** What {@link #next} returns for a request it answered itself (no errno is this negative). */
    static final int ANSWERED = Integer.MIN_VALUE;

    /** libc calls for the pipe and the splices. */
    public interface Libc {
        int pipe2(@Out int[] fds, int flags);

        int fcntl(int fd, int cmd, int arg);

        long splice(int fdIn, Pointer offIn, int fdOut, Pointer offOut, long len, int flags);

        long read(int fd, Pointer buf, long count);

        int open(String path, int flags);

        int close(int fd);
    }

    private static final class Lib {
        static final Libc C = LibraryLoader.create(Libc.class).failImmediately().load("c");
        static final Runtime RT = Runtime.getSystemRuntime();
    }

    /** The pool's data file, opened for writing once per mount and shared by every worker's receiver. */
    static final class Target implements AutoCloseable {
        final int fd;

        private Target(int fd) {
            this.fd = fd;
        }

        /** The data file at {@code data} opened for the splices, or null (with the reason logged) when it cannot be. */
        static Target open(Path data) {
            if (!ENABLED || data == null) {
                return null;
            }
            try {
                int fd = Lib.C.open(data.toAbsolutePath().toString(), O_WRONLY | O_CLOEXEC);
                if (fd < 0) {
                    LOG.info("FUSE writes are read, not spliced: cannot open {} (errno {})", data, errno());
                    return null;
                }
                return new Target(fd);
            } catch (LinkageError | RuntimeException e) {
                LOG.info("FUSE writes are read, not spliced: {}", e.toString());
                return null;
            }
        }

        @Override
        public void close() {
            Lib.C.close(fd);
        }
    }

    private final int fuseFd;
    private final Target target;
    private final int readEnd;
    private final int writeEnd;
    /** The destination offset, as splice(2) takes it: a pointer to a loff_t it advances. */
    private final Pointer offset = Memory.allocateDirect(Lib.RT, 8, true);
    /** Bytes of the current request still in the pipe. */
    private long pending;
    /** Where the next byte read into the buffer goes (the request's bytes read so far). */
    private int readSoFar;
    private Pointer mem;

    private SpliceReceiver(int fuseFd, Target target, int readEnd, int writeEnd) {
        this.fuseFd = fuseFd;
        this.target = target;
        this.readEnd = readEnd;
        this.writeEnd = writeEnd;
    }

    /**
     * A receiver for one worker, or null when splicing cannot be used: no target, or no pipe that holds
     * {@code bufSize} bytes of request in pages (a 1 MiB write at an unaligned offset takes 258 of them).
     */
    static SpliceReceiver create(int fuseFd, Target target, long bufSize) {
        if (target == null) {
            return null;
        }
        int[] fds = new int[2];
        if (Lib.C.pipe2(fds, O_CLOEXEC) != 0) {
            return null;
        }
        long want = pipeBytes(bufSize);
        if (Lib.C.fcntl(fds[1], F_SETPIPE_SZ, (int) Math.min(want, 1 << 30)) < 0) {
            LOG.info("FUSE writes are read, not spliced: the pipe cannot hold {} bytes (errno {})", want, errno());
            Lib.C.close(fds[0]);
            Lib.C.close(fds[1]);
            return null;
        }
        return new SpliceReceiver(fuseFd, target, fds[0], fds[1]);
    }

    /**
     * The pipe size that holds a request of {@code bufSize} bytes: a slot per page of payload, one more where the
     * payload does not start on a page, one for the header; the kernel takes a power of two pages. A request that
     * needs more slots than the pipe has fails in the kernel with EIO, the writer's write with it, so never less.
     */
    static long pipeBytes(long bufSize) {
        long pages = (bufSize + 4095) / 4096 + 2;
        return Long.highestOneBit(pages - 1) << 1 << 12;
    }

    /**
     * Lets pipes hold {@code bytes}: a process without CAP_SYS_RESOURCE may not size a pipe past
     * {@code /proc/sys/fs/pipe-max-size} (1 MiB by default, a page short of a 1 MiB write and its header). As root,
     * the limit is raised to {@code bytes} when it is lower, and the change logged; it only allows larger pipes, each
     * still counted against its user's pipe-user-pages limits. Elsewhere nothing changes and writes are read.
     */
    static void allowPipesOf(long bytes) {
        Path limit = Path.of("/proc/sys/fs/pipe-max-size");
        try {
            long now;
            // Not Files.readString: a /proc file says it is empty, and that read stopped after the first byte.
            try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(limit)) {
                now = Long.parseLong(r.readLine().trim());
            }
            if (now >= bytes || !"root".equals(System.getProperty("user.name"))) {
                return;
            }
            java.nio.file.Files.writeString(limit, Long.toString(bytes));
            LOG.info("raised fs.pipe-max-size from {} to {} so that large FUSE writes can be spliced", now, bytes);
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot raise fs.pipe-max-size: {}", e.toString());
        }
    }

    /**
     * Takes the next request: spliced into the pipe, then read into {@code mem} whole, except a write of at least
     * {@link #MIN_PAYLOAD}, of which only the header and fuse_write_in are read (its payload is {@link #pending}).
     *
     * @return the request's length, or a negative errno (-EINTR, -ENOENT: read again; -ENODEV: unmounted)
     */
    int receive(Pointer mem, long bufSize) {
        this.mem = mem;
        long n = Lib.C.splice(fuseFd, null, writeEnd, null, bufSize, 0);
        if (n < 0) {
            return -errno();
        }
        if (n == 0) {
            return 0;
        }
        pending = n;
        readSoFar = 0;
        int head = RawRequests.IN_HEADER + RawRequests.IO_IN;
        boolean largeWrite = n >= head + MIN_PAYLOAD;
        readInto(largeWrite ? head : (int) n);
        if (largeWrite && (mem.getInt(4) != RawRequests.FUSE_WRITE
                || (mem.getInt(RawRequests.IN_HEADER + 16) & 0xFFFF_FFFFL) != n - head)) {
            readRest();                                     // not a write after all: the rest as usual
        }
        return (int) n;
    }

    /**
     * Takes the next request as a worker does: a large write that the pool makes in place is answered here, its
     * payload spliced on into the data file ({@link #ANSWERED}); any other request, and a write the pool declines, is
     * left whole in {@code mem} for the caller to answer, and its length returned (or a negative errno, as
     * {@link #receive}). The warm-up drives this same method, so a mount's first large write does not run it cold.
     */
    int next(RawRequests raw, Pointer mem, long bufSize, Pointer reply) {
        int res = receive(mem, bufSize);
        if (res > 0 && pending > 0) {
            FuseWorker.noteRequestNode(mem);
            if (raw.answerSplicedWrite(mem, res, this, reply)) {
                return ANSWERED;
            }
            readRest();                                     // the pool wants the bytes in memory: as any request
        }
        return res;
    }

    /** Bytes of the current request's payload still in the pipe (0: the request is all in the buffer). */
    long pending() {
        return pending;
    }

    /** Reads what is left of the current request into the buffer, after what was read of it. */
    void readRest() {
        readInto((int) pending);
    }

    /** Drops what is left of the current request's payload (a write that failed part way) into the buffer. */
    void discardRest() {
        readRest();                                         // the buffer holds any request whole
    }

    /** Moves the next {@code length} payload bytes from the pipe to {@code pos} of the data file. */
    @Override
    public void moveTo(long pos, int length) throws IOException {
        if (length > pending) {
            throw new IOException("a write asked for " + length + " bytes, " + pending + " left in the request");
        }
        offset.putLong(0, pos);
        long left = length;
        while (left > 0) {
            long n = Lib.C.splice(readEnd, null, target.fd, offset, left, SPLICE_F_MOVE);
            if (n < 0 && errno() == EINTR) {
                continue;
            }
            if (n <= 0) {
                throw new IOException("splice into the data file at byte " + offset.getLong(0) + " failed (errno "
                        + (n < 0 ? errno() : 0) + ")");
            }
            left -= n;
            pending -= n;
        }
    }

    private void readInto(int count) {
        int left = count;
        while (left > 0) {
            long n = Lib.C.read(readEnd, mem.slice(readSoFar), left);
            if (n < 0 && errno() == EINTR) {
                continue;
            }
            if (n <= 0) {
                // The pipe holds what splice said it did; a read of it cannot fail short but by a bug. What is left
                // in it would corrupt the next request, so nothing more is read through this pipe.
                throw new IllegalStateException("reading a request back from its pipe failed (errno " + errno()
                        + ") with " + left + " bytes left");
            }
            readSoFar += (int) n;
            pending -= n;
            left -= (int) n;
        }
    }

    private static int errno() {
        return LastError.getLastError(Lib.RT);
    }

    @Override
    public void close() {
        Lib.C.close(readEnd);
        Lib.C.close(writeEnd);
    }
}
