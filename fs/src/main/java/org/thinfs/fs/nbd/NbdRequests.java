package org.thinfs.fs.nbd;

import org.thinfs.core.pool.ThinDevice;
import org.thinfs.fs.model.Handle;
import org.thinfs.fs.model.PoolFileSystem;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What each NBD command does to the export's volume, through the model: the checks a request must pass first, and
 * the calls the FUSE adapter makes too (read, write, punch hole, seek, sync). FLUSH and FUA are {@code sync}: the
 * data flushed, then the mappings committed, so an acknowledged request survives a crash.
 */
final class NbdRequests {
    /** Zeros for WRITE_ZEROES with NO_HOLE; read-only, shared (each use takes a duplicate). */

    private final PoolFileSystem fs;
    private final NbdExports.Export export;
    private final PayloadBuffers buffers;

    NbdRequests(PoolFileSystem fs, NbdExports.Export export, PayloadBuffers buffers) {
        this.fs = fs;
        this.export = export;
        this.buffers = buffers;
    }

    /** A run of the volume that is all data or all hole, in bytes [start, end). */
    record Extent(long start, long end, boolean hole) {
    }

    /** 0 when the request may go ahead, else the NBD error it gets. */
    int check(NbdTransmission.Request r, boolean structured, boolean baseAllocation) {
        int known = switch (r.type()) {
            case Nbd.CMD_READ -> Nbd.CMD_FLAG_DF;
            case Nbd.CMD_WRITE, Nbd.CMD_TRIM -> Nbd.CMD_FLAG_FUA;
            case Nbd.CMD_WRITE_ZEROES -> Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE | Nbd.CMD_FLAG_FAST_ZERO;
            case Nbd.CMD_BLOCK_STATUS -> Nbd.CMD_FLAG_REQ_ONE;
            case Nbd.CMD_FLUSH, Nbd.CMD_CACHE -> 0;
            default -> -1;
        };
        if (known < 0 || (r.flags() & ~known) != 0) {
            return Nbd.EINVAL;
        }
        if ((r.flags() & Nbd.CMD_FLAG_DF) != 0 && !structured) {
            return Nbd.EINVAL;
        }
        boolean changes = r.type() == Nbd.CMD_WRITE || r.type() == Nbd.CMD_TRIM || r.type() == Nbd.CMD_WRITE_ZEROES;
        if (changes && export.readOnly()) {
            return Nbd.EPERM;
        }
        if (r.type() == Nbd.CMD_BLOCK_STATUS && !baseAllocation) {
            return Nbd.EINVAL;
        }
        if (r.type() == Nbd.CMD_FLUSH) {
            return r.offset() == 0 && r.length() == 0 ? 0 : Nbd.EINVAL;
        }
        if (r.offset() < 0 || r.offset() > export.size() || r.length() > export.size() - r.offset()) {
            return changes ? Nbd.ENOSPC : Nbd.EINVAL;
        }
        if (r.type() == Nbd.CMD_READ && r.length() > Nbd.MAX_PAYLOAD) {
            return structured ? Nbd.EOVERFLOW : Nbd.EINVAL;
        }
        if (r.type() == Nbd.CMD_BLOCK_STATUS && r.length() == 0) {
            return Nbd.EINVAL;
        }
        if (r.type() == Nbd.CMD_WRITE_ZEROES && (r.flags() & Nbd.CMD_FLAG_NO_HOLE) != 0
                && (r.flags() & Nbd.CMD_FLAG_FAST_ZERO) != 0) {
            return Nbd.ENOTSUP; // zeros written as data are not fast
        }
        return 0;
    }

    /** What a structured read sends: the bytes (a buffer to release) and the runs that are holes or data. */
    record Sparse(ByteBuffer bytes, List<Extent> extents) {
    }

    /**
     * Bytes [offset, offset + length) and their data and hole runs, at block granularity, from one lookup of the
     * mappings (a hole's bytes are in the buffer too, as zeros, and are simply not sent).
     */
    Sparse readSparse(long offset, int length) {
        ByteBuffer b = buffers.acquire(length);
        boolean[] holes;
        try {
            holes = fs.readReportingHoles(export.handle(), offset, b);
            while (b.hasRemaining()) {
                b.put((byte) 0);                         // past the end of a volume shrunk meanwhile: zeros
            }
        } catch (RuntimeException e) {
            buffers.release(b);
            throw e;
        }
        b.flip();
        long bs = fs.pool().dataBlockSize();
        long end = offset + length;
        long first = offset / bs;
        List<Extent> out = new ArrayList<>();
        long pos = offset;
        while (pos < end) {
            int i = (int) (pos / bs - first);
            boolean hole = i < holes.length && holes[i];
            long stop = pos;
            while (stop < end) {
                int k = (int) (stop / bs - first);
                if ((k < holes.length && holes[k]) != hole) {
                    break;
                }
                stop = Math.min(end, (stop / bs + 1) * bs);
            }
            out.add(new Extent(pos, stop, hole));
            pos = stop;
        }
        return new Sparse(b, out);
    }

    /** Bytes [offset, offset + length) into a buffer of {@link PayloadBuffers}, flipped; release it after use. */
    ByteBuffer read(long offset, int length) {
        ByteBuffer b = buffers.acquire(length);
        try {
            while (b.hasRemaining()) {
                int n = fs.read(export.handle(), offset + b.position(), b);
                b.limit(length);
                if (n <= 0) {
                    // past the end of a volume shrunk meanwhile: the rest reads as zeros (a reused buffer is not)
                    while (b.hasRemaining()) {
                        b.put((byte) 0);
                    }
                }
            }
        } catch (RuntimeException e) {
            buffers.release(b);
            throw e;
        }
        return b.flip();
    }

    /** WRITE, TRIM, WRITE_ZEROES, FLUSH and CACHE. */
    void change(NbdTransmission.Request r) {
        Handle h = export.handle();
        switch (r.type()) {
            case Nbd.CMD_WRITE -> fs.write(h, r.offset(), r.payload());
            case Nbd.CMD_TRIM -> fs.punchHole(h, r.offset(), r.length());
            case Nbd.CMD_WRITE_ZEROES -> {
                if ((r.flags() & Nbd.CMD_FLAG_NO_HOLE) == 0) {
                    // whole blocks unmapped, the edges zeroed (zeros written where a base image shows through)
                    fs.zeroRange(h, r.offset(), r.length(), true);
                } else {
                    // NO_HOLE: zeros that stay allocated, as fallocate ZERO_RANGE then preallocation: whole blocks
                    // become zeroed blocks of their own without a byte of zeros crossing the data path.
                    fs.zeroRange(h, r.offset(), r.length(), true);
                    fs.preallocate(h, r.offset(), r.length(), true);
                }
            }
            case Nbd.CMD_FLUSH -> sync();
            case Nbd.CMD_CACHE -> { }
            default -> throw new IllegalStateException("not a change: " + r.type());
        }
        if ((r.flags() & Nbd.CMD_FLAG_FUA) != 0) {
            sync();
        }
    }

    private void sync() {
        try {
            fs.syncData();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The data and hole runs of [from, to), at most {@code max} of them (the last may end early), at block
     * granularity: lookups bounded by the range's own blocks, so the cost follows what the range maps, never the
     * volume's size (a 4 KiB read looks at one block, not at the run of mapped blocks after it).
     */
    List<Extent> extents(long from, long to, int max) {
        List<Extent> out = new ArrayList<>();
        ThinDevice d = fs.deviceOf(export.handle());
        long bs = fs.pool().dataBlockSize();
        long endBlock = (to + bs - 1) / bs;
        long pos = from;
        while (pos < to && out.size() < max) {
            long block = pos / bs;
            long mapped = d.nextData(block, endBlock);
            if (mapped != block) {
                long end = mapped < 0 ? to : Math.min(to, mapped * bs);
                out.add(new Extent(pos, end, true));
                pos = end;
                continue;
            }
            long unmapped = d.nextHole(block, endBlock);
            long end = unmapped < 0 ? to : Math.min(to, unmapped * bs);
            out.add(new Extent(pos, end, false));
            pos = end;
        }
        return out;
    }
}
