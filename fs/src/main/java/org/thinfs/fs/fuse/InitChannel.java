package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Delegate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A libfuse2 channel used for one request only, the kernel's {@code FUSE_INIT}: libfuse2 processes INIT as usual
 * and sends its reply through this channel, which hands it to {@link InitReply#allowLargeRequests} and writes the
 * amended reply to the mount's {@code /dev/fuse} descriptor. Every other request goes through the mount's own
 * channel, untouched.
 *
 * <p>A libfuse2 channel is a {@code struct fuse_chan_ops} of three function pointers (receive, send, destroy) made
 * into a channel by {@code fuse_chan_new}; {@code fuse_session_process_buf} replies on the channel it is given.
 * Only send is set here: the channel never receives and is never destroyed (it lives as long as the mount, a few
 * dozen bytes).
 */
final class InitChannel {
    private static final Logger LOG = LoggerFactory.getLogger(InitChannel.class);
    private static final int EIO = 5;
    private static final int IOVEC_SIZE = 16;

    /** {@code int (*send)(struct fuse_chan *ch, const struct iovec iov[], size_t count)}. */
    public interface Send {
        @Delegate
        int send(Pointer ch, Pointer iov, long count);
    }

    /** The libc call the amended reply is written with. */
    public interface Libc {
        long write(int fd, Pointer buf, long count);
    }

    /** libfuse2's channel constructor (the default symbol is the FUSE_2.6 one, which this signature matches). */
    public interface LibFuseChan {
        Pointer fuse_chan_new(Pointer ops, int fd, long bufsize, Pointer data);

        int fuse_chan_fd(Pointer ch);
    }

    private static final class Libs {
        static final LibFuseChan FUSE = LibraryLoader.create(LibFuseChan.class).failImmediately().load("fuse");
        static final Libc C = LibraryLoader.create(Libc.class).failImmediately().load("c");
    }

    private final Runtime rt;
    private final int fd;
    private final int maxRequest;
    /** Strong references: the native side holds only the closure's address. */
    private final Send send = this::send;
    @SuppressWarnings({"unused", "FieldCanBeLocal"})
    private final Pointer ops;
    private final Pointer channel;
    private volatile boolean amended;

    /**
     * @param mountChannel the mount's channel, whose descriptor the reply is written to
     * @param maxRequest the request size to allow, see {@link InitReply#allowLargeRequests}
     */
    InitChannel(Runtime rt, Pointer mountChannel, long bufSize, int maxRequest) {
        this.rt = rt;
        this.maxRequest = maxRequest;
        this.fd = Libs.FUSE.fuse_chan_fd(mountChannel);
        this.ops = Memory.allocateDirect(rt, 3L * rt.addressSize(), true);
        ops.putPointer(rt.addressSize(), rt.getClosureManager().getClosurePointer(Send.class, send));
        this.channel = Libs.FUSE.fuse_chan_new(ops, fd, bufSize, null);
        if (channel == null) {
            throw new IllegalStateException("libfuse could not make a channel (out of memory)");
        }
    }

    /** The channel to pass to {@code fuse_session_process_buf} for the INIT request. */
    Pointer pointer() {
        return channel;
    }

    /** The request size the INIT reply allowed: the larger one, or 128 KiB when it could not be amended. */
    int negotiated() {
        return amended ? maxRequest : InitReply.DEFAULT_MAX_REQUEST;
    }

    private int send(Pointer ch, Pointer iov, long count) {
        try {
            int total = 0;
            for (long i = 0; i < count; i++) {
                total += (int) iov.getLong(i * IOVEC_SIZE + 8);
            }
            byte[] reply = new byte[total];
            int at = 0;
            for (long i = 0; i < count; i++) {
                Pointer base = iov.getPointer(i * IOVEC_SIZE);
                int len = (int) iov.getLong(i * IOVEC_SIZE + 8);
                base.get(0, reply, at, len);
                at += len;
            }
            byte[] out;
            try {
                out = InitReply.allowLargeRequests(reply, maxRequest);
            } catch (RuntimeException e) {
                LOG.warn("cannot amend the FUSE INIT reply; requests stay at 128 KiB: {}", e.toString());
                out = reply;
            }
            Pointer buf = Memory.allocateDirect(rt, out.length);
            buf.put(0, out, 0, out.length);
            long n = Libs.C.write(fd, buf, out.length);
            if (n != out.length) {
                int errno = rt.getLastError();
                LOG.error("writing the FUSE INIT reply failed: errno {}", errno);
                return -(errno == 0 ? EIO : errno);
            }
            amended = out != reply;
            return 0;
        } catch (RuntimeException e) {
            // Never let an exception unwind into libfuse's C frames.
            LOG.error("amending the FUSE INIT reply failed", e);
            return -EIO;
        }
    }
}
