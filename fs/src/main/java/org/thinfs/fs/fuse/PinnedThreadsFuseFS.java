package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.ExternalBytes;
import ru.serce.jnrfuse.FuseException;
import ru.serce.jnrfuse.FuseStubFS;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A jnr-fuse file system served by a fixed set of Java threads made once per mount.
 *
 * <p>jnr-fuse's own {@code mount} runs libfuse2's {@code fuse_main}, whose multithreaded loop starts a native
 * worker whenever no worker is idle and ends one whenever more than ten are. Every new native thread is attached
 * to the JVM on its first callback (a new {@code java.lang.Thread}) and detached when it ends. Under four fio
 * writers that churned about a thousand threads a second (JFR: 14 000 {@code jdk.ThreadStart} events in a 15 s
 * run), each paying the attach, a new thread object and cold thread-locals. Here the same libfuse2 session API that
 * {@code fuse_main} uses ({@code fuse_mount}, {@code fuse_new}, {@code fuse_session_receive_buf},
 * {@code fuse_session_process_buf}) is driven by {@code threads} long-lived Java threads instead, each with its own
 * request buffer, exactly as libfuse's workers do, but they never come and go. This class sets the session up and
 * tears it down; each thread's request loop is a {@link FuseWorker}.
 *
 * <p>Requests may be larger than libfuse2's 128 KiB: {@link #serve(Path, List, int, int)} amends the INIT reply
 * (see {@link InitReply}), sizes every worker's buffer for the largest write, and raises the mount's readahead to
 * match ({@link BdiReadahead}).
 *
 * <p>Unmounting ({@code fusermount -u}, {@code umount}, or {@link #umount()}) makes every worker's read return,
 * after which {@link #serve} tears the session down ({@code destroy} runs) and returns.
 */
public abstract class PinnedThreadsFuseFS extends FuseStubFS {
    private static final Logger LOG = LoggerFactory.getLogger(PinnedThreadsFuseFS.class);
    /** The largest request the kernel sends by default ({@code fuse_max_pages_limit}, 256 pages). */
    public static final int MAX_REQUEST = InitReply.MAX_REQUEST;
    /** flag_utime_omit_ok in the first byte of fuse_operations' flag bits (little-endian bit field order). */
    private static final int UTIME_OMIT_OK = 0x04;
    /** flag_nullpath_ok, bit 0 of the same byte. */
    private static final int NULLPATH_OK = 0x01;
    /** Room for the request headers in front of a full write (the kernel wants in header + write_in + max_write). */
    private static final int HEADER_ROOM = 8192;
    /** The largest read or write the kernel sends this mount, known once INIT is answered. */
    private volatile int requestSize = InitReply.DEFAULT_MAX_REQUEST;

    /** The part of libfuse2 that {@code fuse_main} is built from. */
    public interface LibFuseSession {
        Pointer fuse_mount(String mountpoint, Pointer args);

        void fuse_unmount(String mountpoint, Pointer ch);

        void fuse_destroy(Pointer f);

        Pointer fuse_get_session(Pointer f);

        int fuse_session_exited(Pointer se);

        void fuse_session_exit(Pointer se);

        long fuse_chan_bufsize(Pointer ch);

        int fuse_session_receive_buf(Pointer se, Pointer buf, Pointer chp);

        void fuse_session_process_buf(Pointer se, Pointer buf, Pointer ch);

        void fuse_opt_free_args(Pointer args);

        int fuse_chan_fd(Pointer ch);

        int fuse_lowlevel_notify_inval_inode(Pointer ch, long ino, long off, long len);
    }

    /** libfuse's channel while the session lives; null before and after. Guarded by {@link #channelLock}. */
    private Pointer channel;
    private final Object channelLock = new Object();

    /** Loaded on first mount (the holder idiom: the JVM makes class initialization thread-safe). */
    private static final class Lib {
        static final LibFuseSession SESSION = LibraryLoader.create(LibFuseSession.class).failImmediately().load("fuse");
    }

    /**
     * Mounts at {@code mountPoint} with libfuse2 command-line style {@code options} ("-o", "a,b", ...) and serves
     * requests on {@code threads} threads until unmounted. Blocks; returns after the session is torn down.
     *
     * @throws FuseException when the mount fails (libfuse has printed why on stderr)
     */
    public void serve(Path mountPoint, List<String> options, int threads) {
        serve(mountPoint, options, threads, MAX_REQUEST);
    }

    /**
     * As {@link #serve(Path, List, int)}, with reads and writes of up to {@code maxRequest} bytes per request when
     * the kernel allows more than 128 KiB (see {@link InitReply}); 128 KiB keeps libfuse2's own negotiation.
     */
    public void serve(Path mountPoint, List<String> options, int threads, int maxRequest) {
        if (threads < 1) {
            throw new IllegalArgumentException("at least one FUSE thread is needed");
        }
        if (!mounted.compareAndSet(false, true)) {
            throw new FuseException("already mounted");
        }
        this.mountPoint = mountPoint;
        LibFuseSession lib = Lib.SESSION;
        Runtime rt = Runtime.getRuntime(lib);
        String mp = mountPoint.toAbsolutePath().toString();
        List<String> argv = new ArrayList<>();
        argv.add("thinfs");
        argv.addAll(options);
        NativeArgs args = new NativeArgs(rt, argv);
        Pointer ch = lib.fuse_mount(mp, args.struct);
        if (ch == null) {
            mounted.set(false);
            lib.fuse_opt_free_args(args.struct);
            throw new FuseException("cannot mount on " + mp + " (libfuse's message is above)");
        }
        // jnr-fuse filled its operations struct in Java heap memory (jnr copies it for a call); libfuse keeps a copy
        // of the table made in fuse_new, so a native copy that lives through that call is enough.
        int opsSize = Struct.size(fuseOperations);
        Pointer heapOps = Struct.getMemory(fuseOperations);
        Pointer ops = Memory.allocateDirect(rt, opsSize, true);
        byte[] table = new byte[opsSize];
        heapOps.get(0, table, 0, opsSize);
        ops.put(0, table, 0, opsSize);
        // struct fuse_operations' flag bits after bmap. flag_utime_omit_ok (bit 2): without it libfuse2 calls
        // utimens only when both times are set, so `touch -m` and `touch -a` never reach it; with it, UTIME_OMIT
        // and UTIME_NOW arrive as they are (ThinFuse#utimens honours them per field). flag_nullpath_ok (bit 0):
        // with hard_remove an unlinked file has no path left, and without the flag libfuse2 answers ENOENT to
        // every read and write of a descriptor still open on it; with it, those calls come with a null path and
        // the file handle (ThinFuse serves them from the handle).
        // The bit field follows the 38 function pointers getattr..bmap; the table is 45 words in all (libfuse 2.9).
        int word = rt.addressSize();
        if (opsSize == 45 * word) {
            long flags = 38L * word;
            ops.putByte(flags, (byte) (ops.getByte(flags) | UTIME_OMIT_OK | NULLPATH_OK));
        } else {
            LOG.warn("unexpected fuse_operations size {}: touch -a / touch -m alone will not change times", opsSize);
        }
        Pointer f = FuseNew.call(rt, ch, args.struct, ops, opsSize);
        if (f == null) {
            lib.fuse_unmount(mp, ch);
            lib.fuse_opt_free_args(args.struct);
            mounted.set(false);
            throw new FuseException("cannot start a FUSE session on " + mp + " (libfuse's message is above)");
        }
        Pointer se = lib.fuse_get_session(f);
        synchronized (channelLock) {
            channel = ch;
        }
        long bufSize = lib.fuse_chan_bufsize(ch);
        InitChannel init = null;
        InitReply.checkRequestSize(maxRequest);
        if (maxRequest > InitReply.DEFAULT_MAX_REQUEST) {
            // Every worker's buffer must hold the largest write from the start: once INIT is answered, the kernel
            // refuses (EINVAL) a read of /dev/fuse into anything smaller.
            bufSize = Math.max(bufSize, maxRequest + HEADER_ROOM);
            init = new InitChannel(rt, ch, bufSize, maxRequest);
        }
        long workerBufSize = bufSize;
        InitChannel initChannel = init;
        RawRequests raw = new RawRequests(lib.fuse_chan_fd(ch), rawAnswers());
        SpliceReceiver.Target spliceTarget = rawAnswers().servesData() ? SpliceReceiver.Target.open(spliceTarget())
                : null;
        if (spliceTarget != null) {
            SpliceReceiver.allowPipesOf(SpliceReceiver.pipeBytes(workerBufSize));
        }
        AtomicBoolean failed = new AtomicBoolean();
        FuseWorker.Mount workerMount = new FuseWorker.Mount() {
            @Override
            public void endAfterFailure(String why) {
                if (!failed.compareAndSet(false, true)) {
                    return;                             // another worker already ended the mount
                }
                LOG.error("reading a FUSE request failed: {}; unmounting {}", why, mountPoint);
                lib.fuse_session_exit(se);
                umount();
            }

            @Override
            public void initAnswered(int negotiated) {
                requestSize = negotiated;
                LOG.info("FUSE requests of up to {} KiB on {}", negotiated / 1024, mountPoint);
                if (negotiated > InitReply.DEFAULT_MAX_REQUEST) {
                    BdiReadahead.raise(mountPoint, negotiated);
                }
            }
        };
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            SpliceReceiver splice = SpliceReceiver.create(lib.fuse_chan_fd(ch), spliceTarget, workerBufSize);
            Thread t = new Thread(() -> {
                try {
                    new FuseWorker(lib, rt, se, ch, workerBufSize, initChannel, raw, splice, workerMount).run();
                } finally {
                    if (splice != null) {
                        splice.close();
                    }
                }
            }, "fuse-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
        try {
            for (Thread t : workers) {
                joinUninterruptibly(t);
            }
        } finally {
            if (spliceTarget != null) {
                spliceTarget.close();
            }
            synchronized (channelLock) {
                channel = null;                         // no notification may use the channel once it is freed
            }
            lib.fuse_unmount(mp, ch);
            lib.fuse_destroy(f);
            lib.fuse_opt_free_args(args.struct);
            mounted.set(false);
        }
        if (failed.get()) {
            throw new FuseException("reading requests from /dev/fuse failed; the mount was ended");
        }
    }

    /**
     * The pool's data file, for writes spliced straight from {@code /dev/fuse} into it (SpliceReceiver), or null
     * for none. Asked once, when the session starts.
     */
    protected Path spliceTarget() {
        return null;
    }

    /**
     * A write whose {@code size} bytes {@code src} moves into the data file itself: the bytes written, a negative
     * errno, or {@link RawRequests#DECLINED} (nothing done) when it must be made from memory.
     */
    protected int writeHandleFrom(long fh, long offset, int size, ExternalBytes src) {
        return RawRequests.DECLINED;
    }

    /** The requests the loop answers itself (RawRequests), answered by this file system's handle methods. */
    RawRequests.Answers rawAnswers() {
        return new RawRequests.Answers() {
            @Override
            public long seek(long fh, long offset, int whence) {
                return lseek(fh, offset, whence);
            }

            @Override
            public long copy(long fhIn, long offIn, long fhOut, long offOut, long len, long flags) {
                return copyFileRange(fhIn, offIn, fhOut, offOut, len, flags);
            }

            @Override
            public boolean servesData() {
                return servesDataByHandle();
            }

            @Override
            public int read(long fh, long offset, ByteBuffer dst) {
                return readHandle(fh, offset, dst);
            }

            @Override
            public int write(long fh, long offset, ByteBuffer src) {
                return writeHandle(fh, offset, src);
            }

            @Override
            public int writeFrom(long fh, long offset, int size, ExternalBytes src) {
                return writeHandleFrom(fh, offset, size, src);
            }

            @Override
            public int fallocate(long fh, int mode, long offset, long length) {
                return fallocateHandle(fh, mode, offset, length);
            }

            @Override
            public int fsync(long fh, boolean dataOnly) {
                return fsyncHandle(fh, dataOnly);
            }
        };
    }

    /**
     * {@code lseek(2)} with SEEK_DATA (3) or SEEK_HOLE (4) on the file opened as {@code fh}: the new offset, or a
     * negative errno. Answered in the request loop ({@link RawRequests}), since libfuse2 has no such operation.
     * ENOSYS, the default, makes the kernel stop asking and treat files as all data.
     */
    protected long lseek(long fh, long offset, int whence) {
        return -RawRequests.Codes.ENOSYS;
    }

    /**
     * {@code copy_file_range(2)} from the file opened as {@code fhIn} to the one opened as {@code fhOut}: the
     * bytes copied, or a negative errno; ENOSYS, the default, makes the kernel copy through read and write.
     */
    protected long copyFileRange(long fhIn, long offIn, long fhOut, long offOut, long len, long flags) {
        return -RawRequests.Codes.ENOSYS;
    }

    /**
     * Whether {@link #readHandle}, {@link #writeHandle}, {@link #fallocateHandle} and {@link #fsyncHandle} serve
     * FUSE_READ, FUSE_WRITE, FUSE_FALLOCATE and FUSE_FSYNC in the request loop ({@link RawRequests}) instead of
     * libfuse2's callbacks; false by default.
     */
    protected boolean servesDataByHandle() {
        return false;
    }

    /** read(2) of the file opened as {@code fh} into {@code dst}: the bytes read, or a negative errno. */
    protected int readHandle(long fh, long offset, ByteBuffer dst) {
        return -RawRequests.Codes.ENOSYS;
    }

    /** write(2) of all of {@code src} to the file opened as {@code fh}: the bytes written, or a negative errno. */
    protected int writeHandle(long fh, long offset, ByteBuffer src) {
        return -RawRequests.Codes.ENOSYS;
    }

    /** fallocate(2) on the file opened as {@code fh}: 0, or a negative errno. */
    protected int fallocateHandle(long fh, int mode, long offset, long length) {
        return -RawRequests.Codes.ENOSYS;
    }

    /** fsync(2), or fdatasync(2) when {@code dataOnly}, of the file opened as {@code fh}: 0, or a negative errno. */
    protected int fsyncHandle(long fh, boolean dataOnly) {
        return -RawRequests.Codes.ENOSYS;
    }

    /** The kernel's node id of the file the current request (on this worker thread) is about. */
    protected static long requestNodeId() {
        return FuseWorker.requestNodeId();
    }

    /**
     * Tells the kernel to drop its cached pages and attributes of node {@code nodeId} (FUSE_NOTIFY_INVAL_INODE), so
     * the next read of any open descriptor asks again. Never call it from a request of the same node: the kernel may
     * wait for that request. A node the kernel forgot answers ENOENT, which is fine.
     */
    protected void invalidateNode(long nodeId) {
        synchronized (channelLock) {                    // the unmount frees the channel only after this returns
            if (channel != null && nodeId > 1) {        // 1 is the root: never a volume
                int r = Lib.SESSION.fuse_lowlevel_notify_inval_inode(channel, nodeId, 0, 0);
                if (r != 0 && r != -2) {
                    LOG.warn("dropping the kernel's cache of node {} failed: errno {}", nodeId, -r);
                }
            }
        }
    }

    /** The largest read or write request the kernel sends this mount (128 KiB until INIT says otherwise). */
    public int requestSize() {
        return requestSize;
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
