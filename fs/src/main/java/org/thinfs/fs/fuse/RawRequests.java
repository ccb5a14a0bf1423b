package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;

/**
 * Requests answered before libfuse2 sees them, because libfuse2 does not know them: {@code FUSE_LSEEK} (opcode 46,
 * SEEK_DATA and SEEK_HOLE; libfuse2 answers ENOSYS, after which the kernel never asks again and treats every file
 * as all data) and {@code FUSE_COPY_FILE_RANGE} (47; without it the kernel copies every byte through read and
 * write). The worker that read the request builds the reply in its own buffer and writes it to the mount's
 * {@code /dev/fuse} descriptor, as libfuse does for everything else: one write, header and body.
 *
 * <p>Layouts (include/uapi/linux/fuse.h): {@code fuse_in_header} is 40 bytes (len, opcode, unique at 8, nodeid,
 * uid, gid, pid, padding); {@code fuse_lseek_in} is fh (u64), offset (u64), whence (u32); a reply is
 * {@code fuse_out_header} (len, error as a negative errno, unique) followed by {@code fuse_lseek_out} (offset) when
 * the error is 0. {@code fuse_copy_file_range_in} is fh_in, off_in, nodeid_out, fh_out, off_out, len, flags (u64
 * each) and its reply {@code fuse_write_out} (size as u32, padding).
 */
final class RawRequests {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RawRequests.class);
    static final int FUSE_LSEEK = 46;
    static final int FUSE_COPY_FILE_RANGE = 47;
    static final int IN_HEADER = 40;
    static final int OUT_HEADER = 16;
    /** Room a worker's reply buffer needs. */
    static final int REPLY_ROOM = 64;

    /** What answers the requests: results, or negative errnos. */
    public interface Answers {
        /** lseek: the new offset. */
        long seek(long fh, long offset, int whence);

        /** copy_file_range: the bytes copied (at most 4 GiB - 1, the reply's width). */
        long copy(long fhIn, long offIn, long fhOut, long offOut, long len, long flags);
    }

    public interface Libc {
        long write(int fd, Pointer buf, long count);
    }

    private static final class Lib {
        static final Libc C = LibraryLoader.create(Libc.class).failImmediately().load("c");
    }

    private final int fd;
    private final Answers answers;

    RawRequests(int fd, Answers answers) {
        this.fd = fd;
        this.answers = answers;
    }

    /**
     * Answers the request in {@code mem} if it is one of ours; returns false to let libfuse2 process it.
     *
     * @param length the request's length as read from /dev/fuse
     * @param reply a worker-owned buffer of at least {@link #REPLY_ROOM} bytes
     */
    boolean answer(Pointer mem, int length, Pointer reply) {
        int opcode = length < IN_HEADER ? -1 : mem.getInt(4);
        if (opcode != FUSE_LSEEK && opcode != FUSE_COPY_FILE_RANGE) {
            return false;
        }
        long unique = mem.getLong(8);
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
            // The answers map their own failures; this is a bug, and the request must still get its reply.
            LOG.error("FUSE opcode {} failed", opcode, e);
            result = -Codes.EIO;
        }
        int size = result < 0 ? OUT_HEADER : OUT_HEADER + 8;
        reply.putInt(0, size);
        reply.putInt(4, result < 0 ? (int) result : 0);
        reply.putLong(8, unique);
        if (result >= 0 && opcode == FUSE_LSEEK) {
            reply.putLong(OUT_HEADER, result);
        } else if (result >= 0) {
            reply.putInt(OUT_HEADER, (int) result);                 // fuse_write_out: u32 size, u32 padding
            reply.putInt(OUT_HEADER + 4, 0);
        }
        // A failed write means the request was interrupted or the mount is going away: the kernel has already
        // given up on this request (ENOENT for an unknown unique), so there is nobody left to tell.
        Lib.C.write(fd, reply, size);
        return true;
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
