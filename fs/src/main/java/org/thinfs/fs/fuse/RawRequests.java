package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import org.thinfs.core.pool.ExternalBytes;

import java.nio.ByteBuffer;

/**
 * Requests answered before libfuse2 sees them, by the worker that read them, with one write of header and body to
 * the mount's {@code /dev/fuse} descriptor, as libfuse does for everything else.
 *
 * <p>Two because libfuse2 does not know them: {@code FUSE_LSEEK} (opcode 46, SEEK_DATA and SEEK_HOLE; libfuse2
 * answers ENOSYS, after which the kernel never asks again and treats every file as all data) and
 * {@code FUSE_COPY_FILE_RANGE} (47; without it the kernel copies every byte through read and write).
 *
 * <p>Four because they are most of the traffic, or what a disk's writer waits for, and libfuse2's high-level layer
 * adds only cost to them: {@code FUSE_READ} (15), {@code FUSE_WRITE} (16), {@code FUSE_FALLOCATE} (43) and
 * {@code FUSE_FSYNC} (20; a loop device's every flush). On their way through libfuse2
 * each takes the path table's lock to build a path nobody needs (they are served by the open handle), and crosses
 * from native code into Java through a jnr callback with its argument structs; here the worker reads the fields
 * itself and the data moves between the data file and the request buffer in place: a read's bytes are read into
 * the buffer right after the reply header, a write's are written from where the kernel put them. Only when the
 * file system serves them ({@link Answers#servesData()}).
 *
 * <p>Layouts (include/uapi/linux/fuse.h): {@code fuse_in_header} is 40 bytes (len, opcode, unique at 8, nodeid at 16,
 * uid, gid, pid, padding); a reply is {@code fuse_out_header} (len, error as a negative errno, unique), then the
 * body when the error is 0.
 * <ul>
 * <li>{@code fuse_read_in} and {@code fuse_write_in}: fh, offset (u64 each), size (u32), read/write flags, lock owner
 * (u64), flags, padding: 40 bytes, a write's data right after. A read's reply body is the bytes; a write's is
 * {@code fuse_write_out} (size as u32, padding).
 * <li>{@code fuse_fallocate_in}: fh, offset, length (u64 each), mode (u32), padding; no reply body.
 * <li>{@code fuse_fsync_in}: fh (u64), fsync_flags (u32, bit 0: data only), padding; no reply body.
 * <li>{@code fuse_lseek_in}: fh, offset (u64 each), whence (u32); reply {@code fuse_lseek_out} (offset).
 * <li>{@code fuse_copy_file_range_in}: fh_in, off_in, nodeid_out, fh_out, off_out, len, flags (u64 each); reply
 * {@code fuse_write_out}.
 * </ul>
 */
final class RawRequests {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RawRequests.class);
    static final int FUSE_READ = 15;
    static final int FUSE_WRITE = 16;
    static final int FUSE_FSYNC = 20;
    static final int FUSE_FALLOCATE = 43;
    static final int FUSE_LSEEK = 46;
    static final int FUSE_COPY_FILE_RANGE = 47;
    static final int IN_HEADER = 40;
    static final int OUT_HEADER = 16;
    /** fuse_read_in and fuse_write_in. */
    static final int IO_IN = 40;
    /** {@link Answers#writeFrom}'s answer when the write must be made from memory instead. */
    static final int DECLINED = Integer.MIN_VALUE;
    /** Room a worker's reply buffer needs (every reply but a read's, which goes out of the request buffer). */
    static final int REPLY_ROOM = 64;

    /** What answers the requests: results, or negative errnos. */
    public interface Answers {
        /** lseek: the new offset. */
        long seek(long fh, long offset, int whence);

        /** copy_file_range: the bytes copied (at most 4 GiB - 1, the reply's width). */
        long copy(long fhIn, long offIn, long fhOut, long offOut, long len, long flags);

        /** Whether read, write and fallocate are answered here; when false libfuse2 serves them. */
        boolean servesData();

        /** read into {@code dst} (its remaining bytes are the size asked): the bytes read. */
        int read(long fh, long offset, ByteBuffer dst);

        /** write all of {@code src}: the bytes written. */
        int write(long fh, long offset, ByteBuffer src);

        /**
         * write of {@code size} bytes that {@code src} moves into the data file itself: the bytes written, or
         * {@link #DECLINED} (nothing done, {@code src} untouched) when the write needs its bytes in memory.
         */
        default int writeFrom(long fh, long offset, int size, ExternalBytes src) {
            return DECLINED;
        }

        /** fallocate: 0. */
        int fallocate(long fh, int mode, long offset, long length);

        /** fsync, or fdatasync when {@code dataOnly}: 0. */
        int fsync(long fh, boolean dataOnly);
    }

    public interface Libc {
        long write(int fd, Pointer buf, long count);
    }

    private static final class Lib {
        static final Libc C = LibraryLoader.create(Libc.class).failImmediately().load("c");
    }

    private final int fd;
    private final Answers answers;
    private final boolean data;

    RawRequests(int fd, Answers answers) {
        this.fd = fd;
        this.answers = answers;
        this.data = answers.servesData() && NativeBuffers.available();
    }

    /**
     * Answers the request in {@code mem} if it is one of ours; returns false to let libfuse2 process it.
     *
     * @param mem the worker's request buffer, {@code capacity} bytes of native memory
     * @param length the request's length as read from /dev/fuse
     * @param reply a worker-owned buffer of at least {@link #REPLY_ROOM} bytes
     */
    boolean answer(Pointer mem, int length, long capacity, Pointer reply) {
        int opcode = length < IN_HEADER ? -1 : mem.getInt(4);
        return switch (opcode) {
            case FUSE_LSEEK, FUSE_COPY_FILE_RANGE -> {
                answerSeekOrCopy(opcode, mem, length, reply);
                yield true;
            }
            case FUSE_READ -> data && answerRead(mem, length, capacity);
            case FUSE_WRITE -> data && answerWrite(mem, length, reply);
            case FUSE_FALLOCATE -> data && answerFallocate(mem, length, reply);
            case FUSE_FSYNC -> data && answerFsync(mem, length, reply);
            default -> false;
        };
    }

    private boolean answerRead(Pointer mem, int length, long capacity) {
        long unique = mem.getLong(8);
        long size = length < IN_HEADER + IO_IN ? -1 : mem.getInt(IN_HEADER + 16) & 0xFFFF_FFFFL;
        if (size < 0 || size > capacity - OUT_HEADER) {
            return false;                           // malformed or larger than the buffer: libfuse2's own answer
        }
        long fh = mem.getLong(IN_HEADER);
        long offset = mem.getLong(IN_HEADER + 8);
        // The request's fields are read; its buffer now holds the reply: header, then the bytes read in place.
        long result;
        try {
            result = answers.read(fh, offset, NativeBuffers.wrap(mem.address() + OUT_HEADER, (int) size));
        } catch (RuntimeException | Error e) {
            result = bug(FUSE_READ, e);
        }
        int n = result < 0 ? 0 : (int) result;
        send(mem, OUT_HEADER + n, result, unique);
        return true;
    }

    private boolean answerWrite(Pointer mem, int length, Pointer reply) {
        long size = length < IN_HEADER + IO_IN ? -1 : mem.getInt(IN_HEADER + 16) & 0xFFFF_FFFFL;
        if (size < 0 || IN_HEADER + IO_IN + size > length) {
            return false;
        }
        long result;
        try {
            result = answers.write(mem.getLong(IN_HEADER), mem.getLong(IN_HEADER + 8),
                    NativeBuffers.wrap(mem.address() + IN_HEADER + IO_IN, (int) size));
        } catch (RuntimeException | Error e) {
            result = bug(FUSE_WRITE, e);
        }
        sendSize(mem.getLong(8), result, reply);
        return true;
    }

    /**
     * A write whose header is in {@code mem} and whose payload is still in {@code payload}'s pipe: answered when the
     * pool makes it in place from the pipe; false (the payload untouched, still in the pipe) otherwise. A write that
     * fails part way is answered with its error and the rest of its payload dropped, so the pipe is empty after.
     */
    boolean answerSplicedWrite(Pointer mem, int length, SpliceReceiver payload, Pointer reply) {
        long size = mem.getInt(IN_HEADER + 16) & 0xFFFF_FFFFL;
        if (!data || IN_HEADER + IO_IN + size != length || size != payload.pending()) {
            return false;
        }
        long result;
        try {
            result = answers.writeFrom(mem.getLong(IN_HEADER), mem.getLong(IN_HEADER + 8), (int) size, payload);
        } catch (RuntimeException | Error e) {
            result = bug(FUSE_WRITE, e);
        }
        if (result == DECLINED) {
            if (payload.pending() != size) {
                throw new IllegalStateException("a declined write moved part of its payload");
            }
            return false;
        }
        if (payload.pending() > 0) {
            payload.discardRest();
            if (result >= 0) {
                result = bug(FUSE_WRITE, new IllegalStateException("a write left " + size + " bytes unmoved"));
            }
        }
        sendSize(mem.getLong(8), result, reply);
        return true;
    }

    private boolean answerFallocate(Pointer mem, int length, Pointer reply) {
        if (length < IN_HEADER + 28) {
            return false;
        }
        long result;
        try {
            result = answers.fallocate(mem.getLong(IN_HEADER), mem.getInt(IN_HEADER + 24), mem.getLong(IN_HEADER + 8),
                    mem.getLong(IN_HEADER + 16));
        } catch (RuntimeException | Error e) {
            result = bug(FUSE_FALLOCATE, e);
        }
        send(reply, OUT_HEADER, result, mem.getLong(8));
        return true;
    }

    private boolean answerFsync(Pointer mem, int length, Pointer reply) {
        if (length < IN_HEADER + 12) {
            return false;
        }
        long result;
        try {
            result = answers.fsync(mem.getLong(IN_HEADER), (mem.getInt(IN_HEADER + 8) & 1) != 0);
        } catch (RuntimeException | Error e) {
            result = bug(FUSE_FSYNC, e);
        }
        send(reply, OUT_HEADER, result, mem.getLong(8));
        return true;
    }

    private void answerSeekOrCopy(int opcode, Pointer mem, int length, Pointer reply) {
        long result;
        try {
            if (opcode == FUSE_LSEEK) {
                result = length < IN_HEADER + 20 ? -Codes.EINVAL
                        : answers.seek(mem.getLong(IN_HEADER), mem.getLong(IN_HEADER + 8), mem.getInt(IN_HEADER + 16));
            } else {
                result = length < IN_HEADER + 56 ? -Codes.EINVAL
                        : answers.copy(mem.getLong(IN_HEADER), mem.getLong(IN_HEADER + 8), mem.getLong(IN_HEADER + 24),
                        mem.getLong(IN_HEADER + 32), mem.getLong(IN_HEADER + 40), mem.getLong(IN_HEADER + 48));
            }
        } catch (RuntimeException | Error e) {
            result = bug(opcode, e);
        }
        if (opcode == FUSE_COPY_FILE_RANGE) {
            sendSize(mem.getLong(8), result, reply);
            return;
        }
        if (result >= 0) {
            reply.putLong(OUT_HEADER, result);
        }
        send(reply, result < 0 ? OUT_HEADER : OUT_HEADER + 8, result, mem.getLong(8));
    }

    /** A reply of fuse_write_out (write, copy_file_range): u32 size, u32 padding; or the error alone. */
    private void sendSize(long unique, long result, Pointer reply) {
        if (result >= 0) {
            reply.putInt(OUT_HEADER, (int) result);
            reply.putInt(OUT_HEADER + 4, 0);
        }
        send(reply, result < 0 ? OUT_HEADER : OUT_HEADER + 8, result, unique);
    }

    /**
     * Writes the reply in {@code buf}: its {@code fuse_out_header} here (the body, if any, is in place after it; a
     * failed request has none). A failed write means the request was interrupted or the mount is going away: the
     * kernel has already given up on this request (ENOENT for an unknown unique), so there is nobody left to tell.
     */
    private void send(Pointer buf, int length, long result, long unique) {
        buf.putInt(0, length);
        buf.putInt(4, result < 0 ? (int) result : 0);
        buf.putLong(8, unique);
        Lib.C.write(fd, buf, length);
    }

    /** The answers map their own failures; anything escaping them is a bug, and the request still gets a reply. */
    private static long bug(int opcode, Throwable e) {
        LOG.error("FUSE opcode {} failed", opcode, e);
        return -Codes.EIO;
    }

    /** The errno values the request loop itself needs. */
    static final class Codes {
        static final int EINVAL = 22;
        static final int ENXIO = 6;
        static final int EBADF = 9;
        static final int ENOSYS = 38;
        static final int EIO = 5;

        private Codes() {
        }
    }
}
