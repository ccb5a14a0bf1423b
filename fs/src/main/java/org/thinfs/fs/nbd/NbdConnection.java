package org.thinfs.fs.nbd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One client's negotiation (fixed newstyle, as doc/proto.md describes it): options until the client picks an
 * export with NBD_OPT_GO or NBD_OPT_EXPORT_NAME, then {@link NbdTransmission}. Anything that breaks the protocol
 * here (a wrong magic, an option longer than {@link Nbd#MAX_OPTION}, a client that goes) closes the connection;
 * options this server does not know get NBD_REP_ERR_UNSUP. Nothing here touches the pool but opening an export.
 */
final class NbdConnection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);

    private final NbdSocket ch;
    private final NbdExports exports;
    private final int preferredBlock;
    private final Admission admission;
    /** TLS, or null when the server has none. */
    private final NbdTls tls;
    /** Whether the admission gave this connection one of its slots (see Admission#establish). */
    private boolean established;
    private boolean noZeroes;
    private boolean structured;
    private boolean baseAllocation;

    NbdConnection(SocketChannel ch, NbdExports exports, int preferredBlock, Admission admission, NbdTls tls) {
        this.ch = new NbdSocket(ch);
        this.exports = exports;
        this.preferredBlock = preferredBlock;
        this.admission = admission;
        this.tls = tls;
    }

    @Override
    public void run() {
        admission.arrive(ch.channel());
        try (ch) {
            NbdExports.Export e = negotiate();
            if (e != null) {
                LOG.info("nbd: serving {} ({} bytes{})", e.name(), e.size(), e.readOnly() ? ", read-only" : "");
                try {
                    new NbdTransmission(ch, exports.fs(), e, structured, baseAllocation, exports.stats(),
                            exports.payloadBudget(), exports.buffers()).run();
                } finally {
                    exports.fs().release(e.handle());
                }
            }
        } catch (EOFException e) {
            LOG.debug("nbd: client went away during negotiation");
        } catch (IOException | ProtocolError e) {
            LOG.info("nbd: connection closed: {}", e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("nbd: connection failed", e);
        } finally {
            admission.leave(ch.channel(), established);
        }
    }

    /**
     * Takes a connection slot for the export the client picked; false when every slot is taken (or the
     * negotiation was dropped meanwhile), and then the export's handle is released.
     */
    private boolean admit(NbdExports.Export e) {
        established = admission.establish(ch.channel());
        if (!established) {
            exports.fs().release(e.handle());
        }
        return established;
    }

    /** A client that broke the protocol: the connection is closed. */
    static final class ProtocolError extends RuntimeException {
        ProtocolError(String message) {
            super(message);
        }
    }

    private NbdExports.Export negotiate() throws IOException {
        ByteBuffer hello = ByteBuffer.allocate(18);
        hello.putLong(Nbd.NBDMAGIC).putLong(Nbd.IHAVEOPT).putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES));
        Wire.writeAll(ch, hello.flip());
        int clientFlags = Wire.read(ch, 4).getInt();
        if ((clientFlags & ~(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) != 0) {
            throw new ProtocolError("unknown client flags " + Integer.toHexString(clientFlags));
        }
        noZeroes = (clientFlags & Nbd.FLAG_C_NO_ZEROES) != 0;
        for (int n = 0; n < 1000; n++) {
            ByteBuffer h = Wire.read(ch, 16);
            if (h.getLong() != Nbd.IHAVEOPT) {
                throw new ProtocolError("bad option magic");
            }
            int opt = h.getInt();
            int len = h.getInt();
            if (len < 0 || len > Nbd.MAX_OPTION) {
                throw new ProtocolError("option " + opt + " of " + Integer.toUnsignedString(len) + " bytes");
            }
            ByteBuffer data = Wire.read(ch, len);
            if (tls != null && tls.required() && !ch.isTls() && opt != Nbd.OPT_STARTTLS && opt != Nbd.OPT_ABORT) {
                if (opt == Nbd.OPT_EXPORT_NAME) {
                    throw new ProtocolError("NBD_OPT_EXPORT_NAME before STARTTLS on a server that requires TLS");
                }
                error(opt, Nbd.REP_ERR_TLS_REQD, "this server requires TLS: send NBD_OPT_STARTTLS first");
                continue;
            }
            switch (opt) {
                case Nbd.OPT_STARTTLS -> {
                    if (tls == null) {
                        error(opt, Nbd.REP_ERR_UNSUP, "this server has no TLS (see --tls-certificates)");
                    } else if (ch.isTls() || len != 0) {
                        error(opt, Nbd.REP_ERR_INVALID, ch.isTls() ? "TLS is already on" : "STARTTLS takes no data");
                    } else {
                        reply(opt, Nbd.REP_ACK, ByteBuffer.allocate(0));
                        tls.upgrade(ch);
                    }
                }
                case Nbd.OPT_EXPORT_NAME -> {
                    NbdExports.Export e = exports.open(StandardCharsets.UTF_8.decode(data).toString());
                    if (e == null || !admit(e)) {
                        return null; // the old way has no error reply: the connection closes
                    }
                    ByteBuffer r = ByteBuffer.allocate(noZeroes ? 10 : 134);
                    r.putLong(e.size()).putShort((short) transmissionFlags(e));
                    try {
                        Wire.writeAll(ch, r.position(r.capacity()).flip());
                    } catch (IOException | RuntimeException gone) {
                        exports.fs().release(e.handle());
                        throw gone;
                    }
                    structured = false;
                    baseAllocation = false;
                    return e;
                }
                case Nbd.OPT_ABORT -> {
                    reply(opt, Nbd.REP_ACK, ByteBuffer.allocate(0));
                    return null;
                }
                case Nbd.OPT_LIST -> {
                    if (len != 0) {
                        error(opt, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                        continue;
                    }
                    for (String name : exports.names()) {
                        byte[] b = name.getBytes(StandardCharsets.UTF_8);
                        reply(opt, Nbd.REP_SERVER, ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).flip());
                    }
                    reply(opt, Nbd.REP_ACK, ByteBuffer.allocate(0));
                }
                case Nbd.OPT_STRUCTURED_REPLY -> {
                    if (len != 0) {
                        error(opt, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                        continue;
                    }
                    structured = true;
                    reply(opt, Nbd.REP_ACK, ByteBuffer.allocate(0));
                }
                case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> metaContext(opt, data);
                case Nbd.OPT_INFO, Nbd.OPT_GO -> {
                    NbdExports.Export e = info(opt, data);
                    if (e != null && opt == Nbd.OPT_GO) {
                        return e;
                    }
                    if (e != null) {
                        exports.fs().release(e.handle());  // NBD_OPT_INFO only looked
                    }
                }
                default -> error(opt, Nbd.REP_ERR_UNSUP, "option " + opt + " is not supported");
            }
        }
        throw new ProtocolError("too many options");
    }

    /** NBD_OPT_INFO / NBD_OPT_GO: the export's size, flags and block sizes, then ACK; null after an error reply. */
    private NbdExports.Export info(int opt, ByteBuffer data) throws IOException {
        String name;
        try {
            name = string(data);
            int requests = Short.toUnsignedInt(data.getShort());
            if (data.remaining() != requests * 2) {
                throw new java.nio.BufferUnderflowException();
            }
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException bad) {
            error(opt, Nbd.REP_ERR_INVALID, "malformed NBD_OPT_INFO/GO");
            return null;
        }
        NbdExports.Export e = exports.open(name);
        if (e == null) {
            error(opt, Nbd.REP_ERR_UNKNOWN, "no export named " + name);
            return null;
        }
        if (opt == Nbd.OPT_GO && !admit(e)) {
            error(opt, Nbd.REP_ERR_POLICY, "too many connections: this server takes " + admission.maxConnections()
                    + " at once; try again later");
            throw new ProtocolError("refused a connection past --max-connections");
        }
        try {
            ByteBuffer ex = ByteBuffer.allocate(12);
            ex.putShort((short) Nbd.INFO_EXPORT).putLong(e.size()).putShort((short) transmissionFlags(e));
            reply(opt, Nbd.REP_INFO, ex.flip());
            ByteBuffer bs = ByteBuffer.allocate(14);
            bs.putShort((short) Nbd.INFO_BLOCK_SIZE).putInt(1).putInt(preferredBlock).putInt(Nbd.MAX_PAYLOAD);
            reply(opt, Nbd.REP_INFO, bs.flip());
            reply(opt, Nbd.REP_ACK, ByteBuffer.allocate(0));
        } catch (IOException | RuntimeException gone) {
            exports.fs().release(e.handle());
            throw gone;
        }
        return e;
    }

    /** NBD_OPT_LIST/SET_META_CONTEXT: base:allocation is the one context offered. */
    private void metaContext(int opt, ByteBuffer data) throws IOException {
        List<String> queries = new java.util.ArrayList<>();
        try {
            string(data); // the export name: every export has the same contexts
            int n = data.getInt();
            if (n < 0 || n > 1024) {
                throw new IllegalArgumentException();
            }
            for (int i = 0; i < n; i++) {
                queries.add(string(data));
            }
            if (data.hasRemaining()) {
                throw new IllegalArgumentException();
            }
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException bad) {
            error(opt, Nbd.REP_ERR_INVALID, "malformed meta context request");
            return;
        }
        if (opt == Nbd.OPT_SET_META_CONTEXT && !structured) {
            error(opt, Nbd.REP_ERR_INVALID, "meta contexts need structured replies first");
            return;
        }
        boolean offer = queries.isEmpty() ? opt == Nbd.OPT_LIST_META_CONTEXT
                : queries.stream().anyMatch(q -> q.equals(Nbd.BASE_ALLOCATION) || q.equals("base:"));
        if (opt == Nbd.OPT_SET_META_CONTEXT) {
            baseAllocation = offer;
        }
        if (offer) {
            byte[] b = Nbd.BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            reply(opt, Nbd.REP_META_CONTEXT, ByteBuffer.allocate(4 + b.length).putInt(Nbd.BASE_ALLOCATION_ID).put(b)
                    .flip());
        }
        reply(opt, Nbd.REP_ACK, ByteBuffer.allocate(0));
    }

    private static String string(ByteBuffer data) {
        int len = data.getInt();
        if (len < 0 || len > data.remaining() || len > 4096) {
            throw new IllegalArgumentException("bad string length");
        }
        byte[] b = new byte[len];
        data.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private int transmissionFlags(NbdExports.Export e) {
        int f = Nbd.TFLAG_HAS_FLAGS | Nbd.TFLAG_SEND_FLUSH | Nbd.TFLAG_SEND_FUA | Nbd.TFLAG_CAN_MULTI_CONN
                | Nbd.TFLAG_SEND_CACHE | Nbd.TFLAG_SEND_DF;
        if (e.readOnly()) {
            f |= Nbd.TFLAG_READ_ONLY;
        } else {
            f |= Nbd.TFLAG_SEND_TRIM | Nbd.TFLAG_SEND_WRITE_ZEROES | Nbd.TFLAG_SEND_FAST_ZERO;
        }
        return f;
    }

    private void reply(int opt, int type, ByteBuffer data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(20);
        h.putLong(Nbd.OPTION_REPLY_MAGIC).putInt(opt).putInt(type).putInt(data.remaining());
        Wire.writeAll(ch, h.flip(), data);
    }

    private void error(int opt, int type, String message) throws IOException {
        reply(opt, type, StandardCharsets.UTF_8.encode(message));
    }
}
