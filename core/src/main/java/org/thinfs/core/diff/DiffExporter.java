package org.thinfs.core.diff;

import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Writes the blocks in which one device differs from another as a {@link DiffFormat} stream. */
public final class DiffExporter {
    private DiffExporter() {
    }

    /** Summary of an export. */
    public record Stats(long changedBytes, long zeroedBytes) {
    }

    /**
     * Exports what turns {@code base} (or, with base -1, an empty volume) into {@code target}, over the first
     * {@code sizeBytes} of the volume.
     */
    public static Stats export(ThinPool pool, long base, long target, long sizeBytes, OutputStream out)
            throws IOException {
        return export(pool, base, target, sizeBytes, "", "", out);
    }

    /**
     * As {@link #export(ThinPool, long, long, long, OutputStream)}, recording the identities of the base and the
     * target (see {@link DiffFormat}; empty when there is none).
     */
    public static Stats export(ThinPool pool, long base, long target, long sizeBytes, String baseIdentity,
                               String targetIdentity, OutputStream out) throws IOException {
        return export(pool, BlockDelta.between(pool, base, target), target, sizeBytes, baseIdentity, targetIdentity,
                out);
    }

    /** As above, sending the ranges {@code delta} finds (between two devices, or written since a bookmark). */
    public static Stats export(ThinPool pool, BlockDelta.Scan delta, long target, long sizeBytes, String baseIdentity,
                               String targetIdentity, OutputStream out) throws IOException {
        MessageDigest sha = sha256();
        DataOutputStream data = new DataOutputStream(new DigestOutputStream(out, sha));
        long bs = pool.dataBlockSize();
        data.write(DiffFormat.MAGIC);
        data.writeInt(DiffFormat.VERSION);
        data.writeInt((int) bs);
        data.writeLong(sizeBytes);
        writeIdentity(data, baseIdentity);
        writeIdentity(data, targetIdentity);
        ThinDevice dev = pool.device(target);
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(bs * 16, 1 << 20));
        long[] totals = new long[2];
        long endBlock = (sizeBytes + bs - 1) / bs;
        try {
            delta.run(endBlock, (first, count, kind) -> {
                long off = first * bs;
                long len = Math.min(count * bs, sizeBytes - off);
                try {
                    data.writeByte(kind == BlockDelta.Kind.CHANGED ? DiffFormat.DATA : DiffFormat.ZERO);
                    data.writeLong(off);
                    data.writeLong(len);
                    if (kind == BlockDelta.Kind.CHANGED) {
                        copyOut(dev, off, len, buf, data);
                        totals[0] += len;
                    } else {
                        totals[1] += len;
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        data.writeByte(DiffFormat.END);
        data.flush();
        out.write(sha.digest());
        out.flush();
        return new Stats(totals[0], totals[1]);
    }

    private static void writeIdentity(DataOutputStream data, String identity) throws IOException {
        byte[] b = identity.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (b.length > DiffFormat.MAX_IDENTITY) {
            throw new IllegalArgumentException("identity too long: " + identity);
        }
        data.writeShort(b.length);
        data.write(b);
    }

    /** Writes bytes [off, off + len) of {@code dev} to {@code out} through {@code buf} (a heap buffer). */
    static void copyOut(ThinDevice dev, long off, long len, ByteBuffer buf, OutputStream out) throws IOException {
        for (long done = 0; done < len; ) {
            buf.clear().limit((int) Math.min(buf.capacity(), len - done));
            dev.read(off + done, buf);
            out.write(buf.array(), 0, buf.limit());
            done += buf.limit();
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
