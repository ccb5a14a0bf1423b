package org.thinfs.core.diff;

import org.thinfs.core.DamagedInputException;
import org.thinfs.core.pool.ThinDevice;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.Arrays;

/** Applies a {@link DiffFormat} stream to a device, after verifying the whole stream. */
public final class DiffImporter {
    private DiffImporter() {
    }

    /**
     * What the stream said about itself; the identities are empty when the stream has none (a full stream, a
     * live target, or a version 1 stream).
     */
    public record Header(long blockSize, long volumeSize, String baseIdentity, String targetIdentity, int version) {
        /** Whether the stream applies on top of a known image (and only on top of it). */
        public boolean incremental() {
            return !baseIdentity.isEmpty();
        }
    }

    /** Verifies {@code file} end to end, then applies it to {@code device}. Returns the header. */
    public static Header apply(Path file, ThinDevice device) throws IOException {
        Header h = verify(file);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            readHeader(in);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            ImportWrites writes = new ImportWrites(device, device.blockSize());
            while (true) {
                int kind = in.readUnsignedByte();
                if (kind == DiffFormat.END) {
                    return h;
                }
                long off = in.readLong();
                long len = in.readLong();
                if (kind == DiffFormat.ZERO) {
                    device.zeroOut(off, len);
                    continue;
                }
                for (long done = 0; done < len; ) {
                    int n = (int) Math.min(buf.capacity(), len - done);
                    in.readFully(buf.array(), 0, n);
                    writes.write(off + done, buf.clear().limit(n));
                    done += n;
                }
            }
        }
    }

    /** Reads the whole stream and checks its structure and checksum without applying anything. */
    public static Header verify(Path file) throws IOException {
        MessageDigest sha = DiffExporter.sha256();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
            DataInputStream in = new DataInputStream(new DigestInputStream(raw, sha));
            Header h = readHeader(in);
            long lastEnd = 0;
            byte[] skip = new byte[1 << 16];
            while (true) {
                int kind = in.readUnsignedByte();
                if (kind == DiffFormat.END) {
                    byte[] expect = sha.digest();
                    byte[] stored = new byte[32];
                    new DataInputStream(raw).readFully(stored);
                    if (!Arrays.equals(expect, stored)) {
                        throw new DamagedInputException(file + " is damaged: its checksum does not match");
                    }
                    if (raw.read() != -1) {
                        throw new DamagedInputException(file + " has bytes after its end record");
                    }
                    return h;
                }
                if (kind != DiffFormat.DATA && kind != DiffFormat.ZERO) {
                    throw new DamagedInputException(file + " is damaged: unknown record type " + kind);
                }
                long off = in.readLong();
                long len = in.readLong();
                if (off < lastEnd || len <= 0 || (h.volumeSize() > 0 && off + len > h.volumeSize())) {
                    throw new DamagedInputException(file + " is damaged: record at " + off + " of " + len
                            + " bytes is out of order or out of range");
                }
                lastEnd = off + len;
                for (long done = 0; kind == DiffFormat.DATA && done < len; ) {
                    int n = (int) Math.min(skip.length, len - done);
                    in.readFully(skip, 0, n);
                    done += n;
                }
            }
        } catch (EOFException e) {
            throw new DamagedInputException(file + " is truncated");
        }
    }

    private static Header readHeader(DataInputStream in) throws IOException {
        byte[] magic = new byte[8];
        in.readFully(magic);
        if (!Arrays.equals(magic, DiffFormat.MAGIC)) {
            throw new DamagedInputException("not a thinfs diff stream (bad magic)");
        }
        int version = in.readInt();
        if (version != 1 && version != DiffFormat.VERSION) {
            throw new DamagedInputException("unsupported thinfs diff version " + version + " (this thinfs reads 1 and "
                    + DiffFormat.VERSION + ")");
        }
        long blockSize = Integer.toUnsignedLong(in.readInt());
        long size = in.readLong();
        if (version == 1) {
            return new Header(blockSize, size, "", "", version);
        }
        return new Header(blockSize, size, readIdentity(in), readIdentity(in), version);
    }

    private static String readIdentity(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        if (n > DiffFormat.MAX_IDENTITY) {
            throw new DamagedInputException("not a thinfs diff stream: an identity of " + n + " bytes");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
}
