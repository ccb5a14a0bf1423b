package org.thinfs.fs.nbd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.fs.model.PoolFileSystem;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The transmission phase of one connection, served as nbdkit serves it: {@link #THREADS} threads take turns
 * reading a request off the socket (one at a time, under {@link #in}), and the one that read it handles it and
 * writes its reply (whole, by {@link NbdReplies}), possibly out of order as the protocol allows. No hand-off between
 * threads on the way, so a request at queue depth 1 costs one wake-up, and a deeper queue is served by as many
 * threads at once. Payloads and read replies live in reused direct buffers ({@link PayloadBuffers}).
 *
 * <p>Memory stays bounded whatever the client sends: payloads in flight are limited to {@link #IN_FLIGHT_BYTES} per
 * connection and by the server's budget, and an oversized write's payload is read through and dropped. Every
 * request is checked before it reaches the pool: its magic, its command, its range against the export's size (fixed
 * when the export was opened), its flags against what was negotiated; a broken request header closes the
 * connection, a bad request gets its error and changes nothing.
 */
final class NbdTransmission {
    private static final Logger LOG = LoggerFactory.getLogger(NbdTransmission.class);
    /** Threads per connection, each reading, handling and answering requests in turn. */
    private static final int THREADS = 8;
    private static final int IN_FLIGHT_BYTES = 64 << 20;

    private final NbdSocket ch;
    private final NbdExports.Export export;
    private final NbdRequests requests;
    private final boolean structured;
    private final boolean baseAllocation;
    /** Held by the one thread reading a request (header and payload) off the socket. */
    private final Object in = new Object();
    /** Writes the replies, each whole (so they never interleave). */
    private final NbdReplies replies;
    /** The request header, read under {@link #in}. */
    private final ByteBuffer header = ByteBuffer.allocate(28);
    /** Set under {@link #in} when the client is done (EOF, DISC) or the stream broke: no thread reads again. */
    private boolean ended;
    /** The first failure of a thread (I/O, or a ProtocolError), thrown by {@link #run} once every one stopped. */
    private Exception failure;
    private final Semaphore inFlight = new Semaphore(IN_FLIGHT_BYTES);
    /** Requests read and not yet answered: the reader polls a quiet socket only while this is at most 1. */
    private final java.util.concurrent.atomic.AtomicInteger handling = new java.util.concurrent.atomic.AtomicInteger();
    private final Semaphore global;
    private final PayloadBuffers buffers;
    private final PoolFileSystem fs;
    private final org.thinfs.fs.metrics.RequestStats stats;
    private static final String[] OPS = {"read", "write", "disc", "flush", "trim", "cache", "write_zeroes",
            "block_status"};
    /** The name-removal count at which the export's name last still named its device. */
    private volatile long namesSeen;
    /** Set once the export's name was deleted or given to another device: every request fails from then on. */
    private volatile boolean gone;

    NbdTransmission(NbdSocket ch, PoolFileSystem fs, NbdExports.Export export, boolean structured,
                    boolean baseAllocation, org.thinfs.fs.metrics.RequestStats stats, Semaphore global,
                    PayloadBuffers buffers) {
        this.global = global;
        this.buffers = buffers;
        this.stats = stats;
        this.ch = ch;
        this.export = export;
        this.structured = structured;
        this.baseAllocation = baseAllocation;
        this.requests = new NbdRequests(fs, export, buffers);
        this.replies = new NbdReplies(ch, structured);
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

    /** Serves until the client disconnects; replies of requests in flight go out first. */
    void run() throws IOException {
        ch.pollForRequests(handling::get);
        List<Thread> others = new ArrayList<>();
        for (int i = 1; i < THREADS; i++) {
            Thread t = new Thread(this::serveQuietly, "thinfs-nbd-" + export.name());
            t.setDaemon(true);
            t.start();
            others.add(t);
        }
        serveQuietly();
        for (Thread t : others) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(60));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        synchronized (this) {
            if (failure instanceof IOException e) {
                throw e;
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
        }
    }

    private void serveQuietly() {
        try {
            for (Request r = take(); r != null; r = take()) {
                serve(r);
            }
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
    }

    /**
     * Takes the reading turn and returns the next request to serve with the turn passed on, or null once the
     * connection has ended. Requests that keep the turn ({@link #keepsTurn}) are served here, turn in hand.
     */
    private Request take() throws IOException {
        synchronized (in) {
            while (!ended) {
                Request r;
                try {
                    r = next();
                } catch (IOException | RuntimeException e) {
                    ended = true;
                    throw e;
                }
                if (r == null) {
                    ended = true;
                    return null;
                }
                handling.incrementAndGet();
                if (!keepsTurn(r)) {
                    return r;
                }
                serve(r);
            }
            return null;
        }
    }

    /**
     * Whether the thread that read {@code r} keeps the reading turn while it handles it: when the client sends one
     * request at a time (nothing else of this connection in hand, no byte of a next request on the socket), so the
     * next request costs no hand-off. Passing the turn on wakes another thread of the connection, which then finds
     * the socket quiet and polls or sleeps on it; at queue depth 1 that wake-up, and the poll on the CPU the client
     * needs, is per request (strace of 4 KiB writes at depth 1: 3.1 futex calls and 2.9 reads per request, nbdkit 2
     * and 2). A request the client sends while one is handled under a kept turn is read when that one ends (the
     * protocol allows serving in order), and finding it there passes the turn on again. So only reads and writes
     * keep it: a flush or trim may last a commit. A write that waits for space (when-full=wait) holds this
     * connection's next requests with it, never another connection's.
     */
    private boolean keepsTurn(Request r) {
        return KEEP_TURN && (r.type() == Nbd.CMD_READ || r.type() == Nbd.CMD_WRITE) && handling.get() == 1
                && ch.quietNow();
    }

    /** {@code -Dthinfs.nbd.keepTurn=false}: always pass the reading turn on (for A/B runs). */
    private static final boolean KEEP_TURN = !"false".equals(System.getProperty("thinfs.nbd.keepTurn"));

    private void serve(Request r) {
        try {
            handle(r);
        } finally {
            PollWindow.handlingEnded();
            handling.decrementAndGet();
        }
    }

    private synchronized void fail(Exception e) {
        if (failure == null) {
            failure = e;
        }
        closeQuietly();                                 // the other threads' reads and writes end at once
    }

    /**
     * The next request to handle, read under {@link #in}: null when the client is done (EOF or DISC). Requests
     * refused before they need the pool (an oversized write, a spent budget) are answered here and skipped.
     */
    private Request next() throws IOException {
        while (true) {
            header.clear();
            try {
                Wire.readFully(ch, header);
            } catch (EOFException eof) {
                return null;
            }
            ByteBuffer h = header.flip();
            if (h.getInt() != Nbd.REQUEST_MAGIC) {
                throw new NbdConnection.ProtocolError("bad request magic");
            }
            int flags = Short.toUnsignedInt(h.getShort());
            int type = Short.toUnsignedInt(h.getShort());
            long cookie = h.getLong();
            long offset = h.getLong();
            long length = Integer.toUnsignedLong(h.getInt());
            if (type == Nbd.CMD_DISC) {
                return null;
            }
            PollWindow.handlingStarted();           // from its header until its reply (or refusal) is out
            boolean handedOn = false;
            try {
                ByteBuffer payload = null;
                if (type == Nbd.CMD_WRITE) {
                    if (length > Nbd.MAX_PAYLOAD) {
                        Wire.skip(ch, length);
                        replies.simple(cookie, Nbd.EINVAL, null);
                        continue;
                    }
                    if (!acquire((int) length)) {
                        Wire.skip(ch, length);
                        replies.error(cookie, Nbd.ENOMEM);
                        continue;
                    }
                    payload = buffers.acquire((int) length);
                    try {
                        Wire.readFully(ch, payload, true);
                    } catch (IOException e) {
                        buffers.release(payload);
                        release((int) length);
                        throw e;
                    }
                    payload.flip();
                } else if (type == Nbd.CMD_READ && length <= Nbd.MAX_PAYLOAD && !acquire((int) length)) {
                    replies.error(cookie, Nbd.ENOMEM);
                    continue;
                }
                handedOn = true;
                return new Request(flags, type, cookie, offset, length, payload);
            } finally {
                if (!handedOn) {
                    PollWindow.handlingEnded();
                }
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
                replies.error(r.cookie(), err);
                return;
            }
            failed = false;
            switch (r.type()) {
                case Nbd.CMD_READ -> read(r);
                case Nbd.CMD_BLOCK_STATUS -> blockStatus(r);
                default -> {
                    requests.change(r);
                    replies.simple(r.cookie(), 0, null);
                }
            }
        } catch (IOException e) {
            LOG.debug("nbd: reply to {} failed: {}", export.name(), e.getMessage());
            closeQuietly();
        } catch (RuntimeException e) {
            failed = true;
            int err = NbdErrors.of(e, export.name());
            try {
                replies.error(r.cookie(), err);
            } catch (IOException gone) {
                closeQuietly();
            }
        } finally {
            buffers.release(r.payload());
            release(r.heldBytes());
            boolean moves = r.type() == Nbd.CMD_READ || r.type() == Nbd.CMD_WRITE;
            stats.done(r.type() < OPS.length ? OPS[r.type()] : "unknown", moves && !failed ? r.length() : 0, failed);
        }
    }

    private void read(Request r) throws IOException {
        if (!structured || (r.flags() & Nbd.CMD_FLAG_DF) != 0) {
            ByteBuffer data = requests.read(r.offset(), (int) r.length());
            try {
                replies.data(r.cookie(), r.offset(), data);
            } finally {
                buffers.release(data);
            }
            return;
        }
        // Structured: holes and data from one lookup of the mappings, in one reply. The data is read before the reply
        // lock is taken, so requests of one connection read in parallel; what is held meanwhile is bounded by the
        // in-flight limit (the request's length was acquired for it).
        NbdRequests.Sparse sparse = requests.readSparse(r.offset(), (int) r.length());
        try {
            replies.sparse(r.cookie(), r.offset(), sparse.extents(), sparse.bytes());
        } finally {
            buffers.release(sparse.bytes());
        }
    }

    private void blockStatus(Request r) throws IOException {
        int max = (r.flags() & Nbd.CMD_FLAG_REQ_ONE) != 0 ? 1 : 4096;
        replies.blockStatus(r.cookie(), requests.extents(r.offset(), r.offset() + r.length(), max));
    }

    private void closeQuietly() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // going anyway
        }
    }

}
