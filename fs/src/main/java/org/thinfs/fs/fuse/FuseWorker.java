package org.thinfs.fs.fuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;

/**
 * One worker thread's request loop in a {@link PinnedThreadsFuseFS} mount: read a request (by splice when the mount
 * serves data itself, else by libfuse2's read), answer it in the loop when {@link RawRequests} takes it, else hand it
 * to libfuse2, amending the INIT reply on the way when requests larger than 128 KiB are wanted. Each worker owns its
 * buffers; the session and the channel are the mount's, shared by all workers.
 *
 * <p>A failed read ends the whole mount ({@link Mount#endAfterFailure}): otherwise a request could wait for a worker
 * that is gone.
 */
final class FuseWorker {
    private static final Logger LOG = LoggerFactory.getLogger(FuseWorker.class);
    private static final int EINTR = 4;
    private static final int ENOENT = 2;
    private static final int ENODEV = 19;
    /** sizeof(struct fuse_buf) on LP64: size_t size, int flags, void *mem, int fd, off_t pos. */
    private static final int FUSE_BUF_SIZE = 40;
    /** The node id of the request this worker thread is serving (fuse_in_header.nodeid), for cache invalidation. */
    private static final ThreadLocal<long[]> REQUEST_NODE = ThreadLocal.withInitial(() -> new long[1]);

    /** What the loop tells the mount it serves. */
    interface Mount {
        /**
         * Reading requests failed: end the session and unmount, so every other worker's read returns too. Called by
         * every worker that sees a failure; the mount acts on the first.
         */
        void endAfterFailure(String why);

        /** INIT was answered with requests of up to {@code requestSize} bytes. */
        void initAnswered(int requestSize);
    }

    private final PinnedThreadsFuseFS.LibFuseSession lib;
    private final Runtime rt;
    private final Pointer se;
    private final Pointer ch;
    private final long bufSize;
    /** Where INIT's reply is amended, or null when libfuse2's own negotiation stands. */
    private final InitChannel init;
    private final RawRequests raw;
    /** Null when requests are read by libfuse2. */
    private final SpliceReceiver splice;
    private final Mount mount;

    FuseWorker(PinnedThreadsFuseFS.LibFuseSession lib, Runtime rt, Pointer se, Pointer ch, long bufSize,
               InitChannel init, RawRequests raw, SpliceReceiver splice, Mount mount) {
        this.lib = lib;
        this.rt = rt;
        this.se = se;
        this.ch = ch;
        this.bufSize = bufSize;
        this.init = init;
        this.raw = raw;
        this.splice = splice;
        this.mount = mount;
    }

    /** Serves requests until the session ends (unmounted, or a worker's read failed). */
    void run() {
        Pointer mem = Memory.allocateDirect(rt, (int) bufSize);
        touchEveryPage(mem, bufSize);
        Pointer reply = Memory.allocateDirect(rt, RawRequests.REPLY_ROOM, true);
        Pointer buf = Memory.allocateDirect(rt, FUSE_BUF_SIZE, true);
        Pointer chp = Memory.allocateDirect(rt, rt.addressSize(), true);
        while (lib.fuse_session_exited(se) == 0) {
            int res;
            if (splice != null) {
                // What libfuse2's receive does with a read, by splice (SpliceReceiver); libfuse2 then sees the
                // request in the buffer exactly as its own read would have left it.
                try {
                    res = splice.next(raw, mem, bufSize, reply);
                    if (res == -EINTR || res == -ENOENT || res == SpliceReceiver.ANSWERED) {
                        continue;                       // ENOENT: the request was interrupted before it was read
                    }
                } catch (IllegalStateException e) {
                    // The pipe's contents are unknown now; no request can be read through it.
                    mount.endAfterFailure(e.getMessage());
                    return;
                }
                armReceive(buf, chp, mem, Math.max(res, 0), ch);
            } else {
                armReceive(buf, chp, mem, bufSize, ch);
                res = lib.fuse_session_receive_buf(se, buf, chp);
            }
            if (res == -EINTR) {
                continue;
            }
            if (res <= 0) {
                // 0: the kernel ended the connection (unmounted). Below 0: a real error.
                if (res < 0 && res != -ENODEV) {
                    mount.endAfterFailure("errno " + -res);
                }
                return;
            }
            noteRequestNode(mem);
            if (raw.answer(mem, res, bufSize, reply)) {
                continue;
            }
            boolean amendInit = init != null && mem.getInt(4) == InitReply.FUSE_INIT && kernelOffersMaxPages(mem, res);
            lib.fuse_session_process_buf(se, buf, amendInit ? init.pointer() : chp.getPointer(0));
            if (amendInit) {
                mount.initAnswered(init.negotiated());
            }
        }
    }

    private static boolean kernelOffersMaxPages(Pointer mem, int length) {
        ByteBuffer request = ByteBuffer.allocate(InitReply.IN_HEADER_SIZE + 16);
        byte[] head = request.array();
        mem.get(0, head, 0, Math.min(head.length, length));
        boolean offers = InitReply.kernelOffersMaxPages(request);
        if (!offers) {
            LOG.info("the kernel offers no FUSE_MAX_PAGES (before Linux 4.20): requests stay at 128 KiB");
        }
        return offers;
    }

    /**
     * Writes one byte in each page of a new request buffer, so its pages exist before the first request. malloc
     * hands out a buffer this large as fresh anonymous pages that are only mapped on first touch; untouched, the
     * first large write a worker receives pays a page fault per 4 KiB inside the kernel's copy into the buffer (a
     * 512 KiB write took 225-300 us to arrive instead of 75-85 us; traced with sys_exit_read against
     * fuse_request_send). The kernel hands requests to the workers in turn, so without this a mkfs's few large
     * writes each land in a cold buffer. 16 workers of 1 MiB cost 16 MiB of resident memory.
     */
    private static void touchEveryPage(Pointer mem, long size) {
        for (long at = 0; at < size; at += 4096) {
            mem.putByte(at, (byte) 0);
        }
    }

    /**
     * What a worker does before each read of a request: a fresh {@code struct fuse_buf} pointing at its buffer, and
     * the channel pointer. Its own method so the warm-up can run it ({@link Warmup}): the jnr calls in it are
     * compiled only after a few hundred requests, and were compiled in the middle of a user's first mkfs.
     */
    static void armReceive(Pointer buf, Pointer chp, Pointer mem, long bufSize, Pointer ch) {
        buf.putLong(0, bufSize);
        buf.putInt(8, 0);
        buf.putPointer(16, mem);
        buf.putInt(24, 0);
        buf.putLong(32, 0);
        chp.putPointer(0, ch);
    }

    /** Remembers the node of the request in {@code mem} for this worker (fuse_in_header: len, opcode, unique, node). */
    static void noteRequestNode(Pointer mem) {
        REQUEST_NODE.get()[0] = mem.getLong(16);
    }

    /** The node id of the request this thread is serving. */
    static long requestNodeId() {
        return REQUEST_NODE.get()[0];
    }
}
