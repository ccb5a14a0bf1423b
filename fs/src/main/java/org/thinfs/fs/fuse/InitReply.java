package org.thinfs.fs.fuse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Lets a libfuse2 mount take FUSE requests larger than 128 KiB by amending libfuse2's reply to the kernel's
 * {@code FUSE_INIT}.
 *
 * <p>The kernel splits reads and writes into requests of at most {@code max_pages} pages, 32 (128 KiB) unless the
 * file system answers INIT with the {@code FUSE_MAX_PAGES} flag and a larger {@code max_pages} (protocol 7.28, Linux
 * 4.20). libfuse2 speaks protocol 7.19 and never sets them, so every 1 MiB write costs eight round trips through
 * the daemon. This class recognises the INIT request, and rewrites libfuse2's 24-byte {@code fuse_init_out} as the
 * full 64-byte structure with {@code FUSE_MAX_PAGES}, {@code max_pages} and {@code max_write} raised. Nothing else
 * in the reply changes: the negotiated minor version stays libfuse2's, and the kernel reads {@code max_pages} and
 * {@code max_write} whatever minor is replied (it accepts a reply of any length up to its own structure).
 *
 * <p>Layouts (little-endian, from the kernel's {@code include/uapi/linux/fuse.h}): {@code fuse_in_header} is
 * len, opcode, unique, nodeid, uid, gid, pid, padding (40 bytes); {@code fuse_init_in} starts major, minor,
 * max_readahead, flags; {@code fuse_out_header} is len, error, unique (16 bytes); {@code fuse_init_out} is major,
 * minor, max_readahead, flags, max_background (u16), congestion_threshold (u16), max_write, time_gran,
 * max_pages (u16), map_alignment (u16), flags2, unused[7] (64 bytes).
 */
final class InitReply {
    /** The INIT opcode, the second field of {@code fuse_in_header}. */
    static final int FUSE_INIT = 26;
    static final int IN_HEADER_SIZE = 40;
    static final int OUT_HEADER_SIZE = 16;
    static final int FUSE_MAX_PAGES = 1 << 22;
    /** libfuse2's own limit, and the kernel's default (32 pages). */
    static final int DEFAULT_MAX_REQUEST = 128 * 1024;
    /** The largest request the kernel sends by default ({@code fuse_max_pages_limit}, 256 pages). */
    static final int MAX_REQUEST = 1024 * 1024;
    private static final int INIT_OUT_SIZE = 64;
    private static final int PAGE = 4096;
    private static final int OFF_FLAGS = 12;
    private static final int OFF_MAX_WRITE = 20;
    private static final int OFF_MAX_PAGES = 28;

    private InitReply() {
    }

    /** Whether the kernel that sent this INIT request accepts a {@code max_pages} in the reply. */
    static boolean kernelOffersMaxPages(ByteBuffer initRequest) {
        ByteBuffer b = initRequest.order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) < IN_HEADER_SIZE + 16) {
            return false;
        }
        int minor = b.getInt(IN_HEADER_SIZE + 4);
        int flags = b.getInt(IN_HEADER_SIZE + OFF_FLAGS);
        return minor >= 28 && (flags & FUSE_MAX_PAGES) != 0;
    }

    /** Refuses a request size that is not a multiple of 4 KiB from 128 KiB to 1 MiB (the kernel's default limit). */
    static void checkRequestSize(int maxRequest) {
        if (maxRequest % PAGE != 0 || maxRequest < DEFAULT_MAX_REQUEST || maxRequest > MAX_REQUEST) {
            throw new IllegalArgumentException("the FUSE request size must be a multiple of 4 KiB from 128K to 1M, "
                    + "not " + maxRequest + " bytes");
        }
    }

    /**
     * The INIT reply {@code reply} (out header and body, as libfuse2 wrote it) with requests of up to
     * {@code maxRequest} bytes allowed. An error reply, or a body too short to be an {@code fuse_init_out}, is
     * returned unchanged.
     *
     * @param maxRequest a multiple of 4 KiB from 128 KiB to 1 MiB (the kernel's default page limit)
     */
    static byte[] allowLargeRequests(byte[] reply, int maxRequest) {
        checkRequestSize(maxRequest);
        ByteBuffer in = ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN);
        int bodyLength = reply.length - OUT_HEADER_SIZE;
        if (in.getInt(4) != 0 || bodyLength < OFF_MAX_WRITE + 4) {
            return reply;
        }
        byte[] out = new byte[OUT_HEADER_SIZE + INIT_OUT_SIZE];
        System.arraycopy(reply, 0, out, 0, OUT_HEADER_SIZE + Math.min(bodyLength, INIT_OUT_SIZE));
        ByteBuffer o = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        o.putInt(0, out.length);
        int body = OUT_HEADER_SIZE;
        o.putInt(body + OFF_FLAGS, o.getInt(body + OFF_FLAGS) | FUSE_MAX_PAGES);
        o.putInt(body + OFF_MAX_WRITE, maxRequest);
        o.putShort(body + OFF_MAX_PAGES, (short) (maxRequest / PAGE));
        return out;
    }
}
