package org.thinfs.core.diff;

import org.thinfs.core.DamagedInputException;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Ceph's "rbd diff v1" stream, the one {@code rbd export-diff} writes and {@code rbd import-diff} and
 * {@code rbd merge-diff} read (Ceph's doc/dev/rbd-diff.rst), written from that description. All integers
 * little-endian:
 * <pre>
 *   banner   "rbd diff v1\n"
 *   metadata 'f' | le32 n | n bytes: from-snapshot name      (optional; an incremental diff)
 *            't' | le32 n | n bytes: to-snapshot name        (optional)
 *            's' | le64 image size in bytes                   (the size at the end)
 *   data     'w' | le64 offset | le64 length | length bytes   (updated data)
 *            'z' | le64 offset | le64 length                  (the range reads as zeros)
 *   end      'e'
 * </pre>
 * Metadata comes before data. thinfs writes data records coalesced over adjacent blocks, never empty, strictly
 * ascending and never overlapping, clipped to the size, and reads only streams with the same properties (what
 * rbd writes); there is no checksum, so {@link #verify} reads the whole stream before anything is applied.
 */
public final class RbdDiff {
    public static final byte[] BANNER = "rbd diff v1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_NAME = 4096;

    private RbdDiff() {
    }

    /** The metadata of a stream: snapshot names (null when absent) and the image size (-1 when absent). */
    public record Header(String fromSnap, String toSnap, long size) {
    }

    /** True when {@code file} starts with the rbd diff v1 banner. */
    public static boolean isRbdDiff(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(BANNER.length), BANNER);
        }
    }

    /**
     * Writes what turns {@code base} (-1: an empty image) into {@code target} over its first {@code sizeBytes}:
     * 'w' for blocks the target maps differently, 'z' for blocks only the base maps. Memory is one buffer.
     */
    public static DiffExporter.Stats export(ThinPool pool, long base, long target, long sizeBytes, String fromSnap,
                                            String toSnap, OutputStream out) throws IOException {
        return export(pool, BlockDelta.between(pool, base, target), target, sizeBytes, fromSnap, toSnap, out);
    }

    /** As above, sending the ranges {@code delta} finds (between two devices, or written since a bookmark). */
    public static DiffExporter.Stats export(ThinPool pool, BlockDelta.Scan delta, long target, long sizeBytes,
                                            String fromSnap, String toSnap, OutputStream out) throws IOException {
        Le le = new Le(out);
        out.write(BANNER);
        if (fromSnap != null) {
            le.name('f', fromSnap);
        }
        if (toSnap != null) {
            le.name('t', toSnap);
        }
        out.write('s');
        le.u64(sizeBytes);
        long bs = pool.dataBlockSize();
        ThinDevice dev = pool.device(target);
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(bs * 16, 1 << 20));
        long[] totals = new long[2];
        try {
            delta.run((sizeBytes + bs - 1) / bs, (first, count, kind) -> {
                long off = first * bs;
                long len = Math.min(count * bs, sizeBytes - off);
                if (len <= 0) {
                    return;
                }
                try {
                    boolean data = kind == BlockDelta.Kind.CHANGED;
                    out.write(data ? 'w' : 'z');
                    le.u64(off);
                    le.u64(len);
                    if (data) {
                        DiffExporter.copyOut(dev, off, len, buf, out);
                    }
                    totals[data ? 0 : 1] += len;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        out.write('e');
        out.flush();
        return new DiffExporter.Stats(totals[0], totals[1]);
    }

    /** Reads the whole stream and checks its structure without applying anything. */
    public static Header verify(Path file) throws IOException {
        return read(file, null);
    }

    /** Applies a verified stream: 'w' writes, 'z' unmaps whole blocks and zeroes partial ones. */
    public static Header apply(Path file, ThinDevice device) throws IOException {
        verify(file);
        return read(file, device);
    }

    private static Header read(Path file, ThinDevice device) throws IOException {
        String name = file.getFileName().toString();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
            if (!Arrays.equals(raw.readNBytes(BANNER.length), BANNER)) {
                throw new DamagedInputException(name + " is not an rbd diff v1 stream (its first line is not 'rbd diff v1')");
            }
            Le in = new Le(raw);
            String from = null;
            String to = null;
            long size = -1;
            long lastEnd = 0;
            boolean inData = false;
            ByteBuffer buf = device == null ? null : ByteBuffer.allocate(1 << 20);
            ImportWrites writes = device == null ? null : new ImportWrites(device, device.blockSize());
            byte[] skip = device == null ? new byte[1 << 16] : null;
            while (true) {
                int tag = raw.read();
                if (tag < 0) {
                    throw new DamagedInputException(name + " is truncated: it ends without its 'e' record");
                }
                switch (tag) {
                    case 'f', 't' -> {
                        if (inData) {
                            throw new DamagedInputException(name + " is damaged: a snapshot name after the data records");
                        }
                        String n = in.name(name);
                        if (tag == 'f') {
                            from = n;
                        } else {
                            to = n;
                        }
                    }
                    case 's' -> {
                        if (inData) {
                            throw new DamagedInputException(name + " is damaged: the size record after the data records");
                        }
                        size = in.u64();
                        if (size < 0) {
                            throw new DamagedInputException(name + " is damaged: an image size above 8 EiB");
                        }
                    }
                    case 'w', 'z' -> {
                        inData = true;
                        long off = in.u64();
                        long len = in.u64();
                        if (off < lastEnd || len <= 0 || off + len < off || (size >= 0 && off + len > size)) {
                            throw new DamagedInputException(name + " is damaged: the '" + (char) tag + "' record at offset "
                                    + Long.toUnsignedString(off) + " of " + Long.toUnsignedString(len)
                                    + " bytes is empty, out of order or past the image size");
                        }
                        lastEnd = off + len;
                        if (tag == 'z') {
                            if (device != null) {
                                device.zeroOut(off, len);
                            }
                            continue;
                        }
                        for (long done = 0; done < len; ) {
                            int n = (int) Math.min(device == null ? skip.length : buf.capacity(), len - done);
                            byte[] into = device == null ? skip : buf.array();
                            if (raw.readNBytes(into, 0, n) != n) {
                                throw new EOFException();
                            }
                            if (device != null) {
                                writes.write(off + done, buf.clear().limit(n));
                            }
                            done += n;
                        }
                    }
                    case 'e' -> {
                        if (raw.read() != -1) {
                            throw new DamagedInputException(name + " has bytes after its 'e' record");
                        }
                        if (size < 0) {
                            throw new DamagedInputException(name + " is damaged: it has no size record");
                        }
                        return new Header(from, to, size);
                    }
                    default -> throw new DamagedInputException(name + " is damaged: unknown record tag " + tag);
                }
            }
        } catch (EOFException e) {
            throw new DamagedInputException(name + " is truncated in the middle of a record");
        }
    }

    /** Little-endian fields on a stream. */
    private static final class Le {
        private final ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private final OutputStream out;
        private final InputStream in;

        Le(OutputStream out) {
            this.out = out;
            this.in = null;
        }

        Le(InputStream in) {
            this.in = in;
            this.out = null;
        }

        void u64(long v) throws IOException {
            out.write(b.clear().putLong(0, v).array(), 0, 8);
        }

        void name(int tag, String name) throws IOException {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            out.write(tag);
            out.write(b.clear().putInt(0, n.length).array(), 0, 4);
            out.write(n);
        }

        long u64() throws IOException {
            fill(8);
            return b.getLong(0);
        }

        String name(String file) throws IOException {
            fill(4);
            int n = b.getInt(0);
            if (n < 0 || n > MAX_NAME) {
                throw new DamagedInputException(file + " is damaged: a snapshot name of " + Integer.toUnsignedString(n)
                        + " bytes");
            }
            byte[] s = in.readNBytes(n);
            if (s.length != n) {
                throw new EOFException();
            }
            return new String(s, StandardCharsets.UTF_8);
        }

        private void fill(int n) throws IOException {
            if (in.readNBytes(b.array(), 0, n) != n) {
                throw new EOFException();
            }
        }
    }
}
