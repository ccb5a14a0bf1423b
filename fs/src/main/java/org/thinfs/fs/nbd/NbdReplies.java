package org.thinfs.fs.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one connection's replies: each reply whole, in one gathering write, under one lock, so the replies of
 * requests served at once by the connection's threads never interleave on the socket (they may go out of order, as
 * the protocol allows). Simple replies, and structured replies (data, hole, error and block-status chunks) once the
 * client negotiated them. Knows the wire format of replies and nothing of requests or the pool.
 */
final class NbdReplies {
    private final NbdSocket ch;
    private final boolean structured;
    /** Held while a reply is written. */
    private final Object out = new Object();

    NbdReplies(NbdSocket ch, boolean structured) {
        this.ch = ch;
        this.structured = structured;
    }

    /** A simple reply: error {@code err} (0: success), with {@code data} after the header when it succeeded. */
    void simple(long cookie, int err, ByteBuffer data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(16).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(err).putLong(cookie).flip();
        synchronized (out) {
            if (data == null || err != 0) {
                Wire.writeAll(ch, h);
            } else {
                Wire.writeAll(ch, h, data);
            }
        }
    }

    /** Error {@code err} for request {@code cookie}: an error chunk when structured, else a simple reply. */
    void error(long cookie, int err) throws IOException {
        if (structured) {
            ByteBuffer p = ByteBuffer.allocate(6).putInt(err).putShort((short) 0);
            chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_ERROR, p.flip(), null);
        } else {
            simple(cookie, err, null);
        }
    }

    /** A read's bytes as they are, holes included: one data chunk when structured, else a simple reply. */
    void data(long cookie, long offset, ByteBuffer data) throws IOException {
        if (structured) {
            ByteBuffer head = ByteBuffer.allocate(8).putLong(offset).flip();
            chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_OFFSET_DATA, head, data);
        } else {
            simple(cookie, 0, data);
        }
    }

    /**
     * A structured read's reply: holes as hole chunks (no bytes on the wire), data as data chunks cut from
     * {@code bytes} (which starts at {@code offset}), the last chunk flagged done, all in one gathering write.
     */
    void sparse(long cookie, long offset, List<NbdRequests.Extent> extents, ByteBuffer bytes) throws IOException {
        List<ByteBuffer> reply = new ArrayList<>(3 * extents.size());
        for (int i = 0; i < extents.size(); i++) {
            NbdRequests.Extent e = extents.get(i);
            int flags = i == extents.size() - 1 ? Nbd.REPLY_FLAG_DONE : 0;
            int len = (int) (e.end() - e.start());
            if (e.hole()) {
                ByteBuffer p = ByteBuffer.allocate(12).putLong(e.start()).putInt(len);
                addChunk(reply, cookie, flags, Nbd.REPLY_TYPE_OFFSET_HOLE, p.flip(), null);
            } else {
                ByteBuffer head = ByteBuffer.allocate(8).putLong(e.start()).flip();
                addChunk(reply, cookie, flags, Nbd.REPLY_TYPE_OFFSET_DATA, head,
                        bytes.slice((int) (e.start() - offset), len));
            }
        }
        ByteBuffer[] all = reply.toArray(new ByteBuffer[0]);
        synchronized (out) {
            Wire.writeAll(ch, all);
        }
    }

    /** A block-status reply of the base:allocation context: each extent's length and whether it is a hole. */
    void blockStatus(long cookie, List<NbdRequests.Extent> extents) throws IOException {
        ByteBuffer p = ByteBuffer.allocate(4 + 8 * extents.size());
        p.putInt(Nbd.BASE_ALLOCATION_ID);
        for (NbdRequests.Extent e : extents) {
            p.putInt((int) (e.end() - e.start())).putInt(e.hole() ? Nbd.STATE_HOLE | Nbd.STATE_ZERO : 0);
        }
        chunk(cookie, Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_BLOCK_STATUS, p.flip(), null);
    }

    private void chunk(long cookie, int flags, int type, ByteBuffer head, ByteBuffer data) throws IOException {
        List<ByteBuffer> reply = new ArrayList<>(3);
        addChunk(reply, cookie, flags, type, head, data);
        ByteBuffer[] all = reply.toArray(new ByteBuffer[0]);
        synchronized (out) {
            Wire.writeAll(ch, all);
        }
    }

    /** Appends a structured reply chunk (header, its fixed part, its data if any) to {@code reply}. */
    private static void addChunk(List<ByteBuffer> reply, long cookie, int flags, int type, ByteBuffer head,
                                 ByteBuffer data) {
        int len = head.remaining() + (data == null ? 0 : data.remaining());
        reply.add(ByteBuffer.allocate(20).putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) flags)
                .putShort((short) type).putLong(cookie).putInt(len).flip());
        reply.add(head);
        if (data != null) {
            reply.add(data);
        }
    }
}
