package org.thinfs.fs.nbd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.fs.model.PoolFileSystem;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The transmission phase of one connection. This thread reads requests (a write's payload into a direct buffer)
 * and hands each to a few workers, which call the model and reply, possibly out of order as the protocol allows;
 * replies are written whole under {@link #out}. Memory stays bounded whatever the client sends: payloads in flight
 * are limited to {@link #IN_FLIGHT_BYTES}, and an oversized write's payload is read through and dropped.
 *
 * <p>Every request is checked before it reaches the pool: its magic, its command, its range against the export's
 * size (fixed when the export was opened), its flags against what was negotiated; a broken request header closes
 * the connection, a bad request gets its error and changes nothing.
 */
final class NbdTransmission {
    private static final Logger LOG = LoggerFactory.getLogger(NbdTransmission.class);
    private static final int WORKERS = 4;
    private static final int IN_FLIGHT_BYTES = 64 << 20;

    private final NbdSocket ch;
    private final NbdExports.Export export;
    private final NbdRequests requests;
    private final boolean structured;
    private final boolean baseAllocation;
    private final Object out = new Object();
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT_BYTES);
    private final Semaphore global;
    private final PoolFileSystem fs;
    private final org.thinfs.fs.metrics.RequestStats stats;
    private static final String[] OPS = {"read", "write", "disc", "flush", "trim", "cache", "write_zeroes",
            "block_status"};
    /** The name-removal count at which the export's name last still named its device. */
    private volatile long namesSeen;
    /** Set once the export's name was deleted or given to another device: every request fails from then on. */
    private volatile boolean gone;

    NbdTransmission(NbdSocket ch, PoolFileSystem fs, NbdExports.Export export, boolean structured,
                    boolean baseAllocation, org.thinfs.fs.metrics.RequestStats stats, Semaphore global) {
        this.global = global;
        this.stats = stats;
        this.ch = ch;
        this.export = export;
        this.structured = structured;
        this.baseAllocation = baseAllocation;
        this.requests = new NbdRequests(fs, export);
        this.fs = fs;
        this.namesSeen = export.namesAtOpen();
    }

    /**
     * Whether the export's volume was deleted or renamed since it was opened: the client then gets EIO on every
     * request, never the bytes of whatever holds the name now (nor, silently, of the deleted device). One volatile
     * read per request while no name changes anywhere in the pool.
     */
    private boolean exportGone() {
        if (gone) {
            return true;
        }
        long now = fs.nameRemovals();
        if (now == namesSeen) {
            return false;
        }
        if (fs.stillNamed("/" + export.name(), export.handle(), -1)) {
            namesSeen = now;
            return false;
        }
        gone = true;
        LOG.warn("nbd: export {} was deleted or renamed; its client gets EIO from now on", export.name());
        return true;
    }

    void run() throws IOException {
        ExecutorService workers = Executors.newFixedThreadPool(WORKERS, r -> {
            Thread t = new Thread(r, "thinfs-nbd-worker");
            t.setDaemon(true);
            return t;
        });
        try {
            serve(workers);
        } finally {
            workers.shutdown();
            try {
                workers.awaitTermination(60, TimeUnit.SECONDS); // replies of requests in flight go out first
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void serve(ExecutorService workers) throws IOException {
        while (true) {
            ByteBuffer h;
            try {
                h = Wire.read(ch, 28);
            } catch (EOFException gone) {
                return;
            }
            if (h.getInt() != Nbd.REQUEST_MAGIC) {
                throw new NbdConnection.ProtocolError("bad request magic");
            }
            int flags = Short.toUnsignedInt(h.getShort());
            int type = Short.toUnsignedInt(h.getShort());
            long cookie = h.getLong();
            long offset = h.getLong();
            long length = Integer.toUnsignedLong(h.getInt());
            if (type == Nbd.CMD_DISC) {
                return;
            }
            ByteBuffer payload = null;
            if (type == Nbd.CMD_WRITE) {
                if (length > Nbd.MAX_PAYLOAD) {
                    Wire.skip(ch, length);
                    simple(cookie, Nbd.EINVAL, null);
                    continue;
                }
                if (!acquire((int) length)) {
                    Wire.skip(ch, length);
                    fail(new Request(flags, type, cookie, offset, 0, null), Nbd.ENOMEM);
                    continue;
                }
                payload = ByteBuffer.allocateDirect((int) length);
                Wire.readFully(ch, payload);
                payload.flip();
            } else if (type == Nbd.CMD_READ && length <= Nbd.MAX_PAYLOAD && !acquire((int) length)) {
                fail(new Request(flags, type, cookie, offset, 0, null), Nbd.ENOMEM);
                continue;
            }
            Request r = new Request(flags, type, cookie, offset, length, payload);
            try {
                workers.execute(() -> handle(r));
            } catch (RejectedExecutionException e) {
                return;
            }
        }
    }

    /** How long a request waits for the server's payload budget before it gets NBD_ENOMEM. */
    private static final long BUDGET_WAIT_MS = 2000;

    /**
     * Takes {@code bytes} of this connection's budget (waiting: only this client is held), then of the server's
     * (NbdExports#PAYLOAD_BUDGET) for up to BUDGET_WAIT_MS; false when the server's stays spent, and the request
     * gets NBD_ENOMEM. So no number of clients that send large requests and never read their replies can run the
     * daemon out of memory, nor hold up other clients for longer than that wait.
     */
    private boolean acquire(int bytes) throws IOException {
        try {
            inFlight.acquire(bytes);
            if (global.tryAcquire(bytes, BUDGET_WAIT_MS, TimeUnit.MILLISECONDS)) {
                return true;
            }
            inFlight.release(bytes);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private void release(int bytes) {
        global.release(bytes);
        inFlight.release(bytes);
    }

    /** One request as read off the wire. */
    record Request(int flags, int type, long cookie, long offset, long length, ByteBuffer payload) {
        int heldBytes() {
            return type == Nbd.CMD_WRITE || (type == Nbd.CMD_READ && length <= Nbd.MAX_PAYLOAD) ? (int) length : 0;
        }
    }

    private void handle(Request r) {
        boolean failed = true;
        try {
            int err = exportGone() ? Nbd.EIO : requests.check(r, structured, baseAllocation);
            if (err != 0) {
                fail(r, err);
                return;
            }
            failed = false;
            switch (r.type()) {
                case Nbd.CMD_READ -> read(r);
                case Nbd.CMD_BLOCK_STATUS -> blockStatus(r);
                default -> {
                    requests.change(r);
                    simple(r.cookie(), 0, null);
                }
            }
        } catch (IOException e) {
            LOG.debug("nbd: reply to {} failed: {}", export.name(), e.getMessage());
            closeQuietly();
        } catch (RuntimeException e) {
            failed = true;
            int err = NbdErrors.of(e, export.name());
            try {
                fail(r, err);
            } catch (IOException gone) {
                closeQuietly();
            }
        } finally {
            release(r.heldBytes());
            boolean moves = r.type() == Nbd.CMD_READ || r.type() == Nbd.CMD_WRITE;
            stats.done(r.type() < OPS.length ? OPS[r.type()] : "unknown", moves && !failed ? r.length() : 0, failed);
        }
    }

    private void read(Request r) throws IOException {
        if (!structured) {
            ByteBuffer data = requests.read(r.offset(), (int) r.length());
            simple(r.cookie(), 0, data);
            return;
        }
        // Structured: holes go as hole chunks (no bytes on the wire), data as data chunks; one data chunk when
        // the client asked not to fragment.
        if ((r.flags() & Nbd.CMD_FLAG_DF) != 0) {
            ByteBuffer data = requests.read(r.offset(), (int) r.length());
            chunk(r.cookie(), Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_OFFSET_DATA, r.offset(), data);
            return;
        }
        // The data is read before the reply lock is taken, so requests of one connection read in parallel; what
        // is held meanwhile is bounded by the in-flight limit (the request's length was acquired for it).
        long end = r.offset() + r.length();
        List<NbdRequests.Extent> extents = requests.extents(r.offset(), end, Integer.MAX_VALUE);
        List<ByteBuffer> data = new ArrayList<>(extents.size());
        for (NbdRequests.Extent e : extents) {
            data.add(e.hole() ? null : requests.read(e.start(), (int) (e.end() - e.start())));
        }
        synchronized (out) {
            for (int i = 0; i < extents.size(); i++) {
                NbdRequests.Extent e = extents.get(i);
                if (e.hole()) {
                    ByteBuffer p = ByteBuffer.allocate(12).putLong(e.start()).putInt((int) (e.end() - e.start()));
                    chunkLocked(r.cookie(), 0, Nbd.REPLY_TYPE_OFFSET_HOLE, p.flip(), null);
                } else {
                    chunkLocked(r.cookie(), 0, Nbd.REPLY_TYPE_OFFSET_DATA,
                            ByteBuffer.allocate(8).putLong(e.start()).flip(), data.get(i));
                }
            }
            chunkLocked(r.cookie(), Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, ByteBuffer.allocate(0), null);
        }
    }

    private void blockStatus(Request r) throws IOException {
        int max = (r.flags() & Nbd.CMD_FLAG_REQ_ONE) != 0 ? 1 : 4096;
        var extents = requests.extents(r.offset(), r.offset() + r.length(), max);
        ByteBuffer p = ByteBuffer.allocate(4 + 8 * extents.size());
        p.putInt(Nbd.BASE_ALLOCATION_ID);
        for (NbdRequests.Extent e : extents) {
            p.putInt((int) (e.end() - e.start())).putInt(e.hole() ? Nbd.STATE_HOLE | Nbd.STATE_ZERO : 0);
        }
        synchronized (out) {
            chunkLocked(r.cookie(), Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_BLOCK_STATUS, p.flip(), null);
        }
    }

    private void fail(Request r, int err) throws IOException {
        if (structured) {
            ByteBuffer p = ByteBuffer.allocate(6).putInt(err).putShort((short) 0);
            synchronized (out) {
                chunkLocked(r.cookie(), Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_ERROR, p.flip(), null);
            }
        } else {
            simple(r.cookie(), err, null);
        }
    }

    private void simple(long cookie, int err, ByteBuffer data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(16).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(err).putLong(cookie).flip();
        synchronized (out) {
            if (data == null || err != 0) {
                Wire.writeAll(ch, h);
            } else {
                Wire.writeAll(ch, h, data);
            }
        }
    }

    private void chunk(long cookie, int flags, int type, long offset, ByteBuffer data) throws IOException {
        synchronized (out) {
            chunkLocked(cookie, flags, type, ByteBuffer.allocate(8).putLong(offset).flip(), data);
        }
    }

    private void chunkLocked(long cookie, int flags, int type, ByteBuffer head, ByteBuffer data) throws IOException {
        int len = head.remaining() + (data == null ? 0 : data.remaining());
        ByteBuffer h = ByteBuffer.allocate(20).putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) flags)
                .putShort((short) type).putLong(cookie).putInt(len).flip();
        if (data == null) {
            Wire.writeAll(ch, h, head);
        } else {
            Wire.writeAll(ch, h, head, data);
        }
    }

    private void closeQuietly() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // going anyway
        }
    }

}
