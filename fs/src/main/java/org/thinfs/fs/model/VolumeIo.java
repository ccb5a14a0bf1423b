package org.thinfs.fs.model;

import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.pool.ExternalBytes;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.FsException.Code;

import java.nio.ByteBuffer;

/**
 * Reads, writes, seeks, copies and punches of open volumes. Never takes the namespace lock: a volume's size has
 * its own ({@link Entry#extendTo}) and the change flag is volatile, so a commit holding the namespace stalls data
 * I/O only for the pool's own quiescent section.
 */
final class VolumeIo {
    private final ThinPool pool;
    private final long blockSize;
    private final CatalogCommit commits;

    VolumeIo(ThinPool pool, CatalogCommit commits) {
        this.pool = pool;
        this.blockSize = pool.dataBlockSize();
        this.commits = commits;
    }

    /** Reads up to dst.remaining() bytes at {@code offset}, stopping at the volume's end; returns bytes read. */
    int read(Handle h, long offset, ByteBuffer dst) {
        long size = h.entry.size;
        if (offset >= size) {
            return 0;
        }
        int n = (int) Math.min(dst.remaining(), size - offset);
        dst.limit(dst.position() + n);
        try {
            h.device.read(offset, dst);
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        return n;
    }

    /**
     * As {@link #read}, in one lookup, with the holes of what was read: element i says whether block
     * {@code offset / blockSize + i} is a hole (reads zeros, nothing mapped). Bytes past the volume's end are not
     * read (the position stops there) and have no element.
     */
    boolean[] readReportingHoles(Handle h, long offset, ByteBuffer dst) {
        long size = h.entry.size;
        if (offset >= size) {
            return new boolean[0];
        }
        int n = (int) Math.min(dst.remaining(), size - offset);
        int limit = dst.limit();
        dst.limit(dst.position() + n);
        try {
            return h.device.readReportingHoles(offset, dst);
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        } finally {
            dst.limit(limit);
        }
    }

    /** Writes all of {@code src} at {@code offset}, growing the volume when the write ends past it. */
    void write(Handle h, long offset, ByteBuffer src) {
        if (h.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        long end = offset + src.remaining();
        forgetReceivedImage(h);
        int mapped;
        try {
            mapped = h.device.write(offset, src);
        } catch (OutOfDataSpaceException e) {
            throw new FsException(Code.ENOSPC, e.getMessage());
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        written(h, end, mapped);
    }

    /** After a write that ended at {@code end} and changed {@code mapped} mappings: size, times, commit due. */
    private void written(Handle h, long end, int mapped) {
        // A write in place changes neither mappings nor the catalog: no commit is due for it (fsync flushes its
        // data through sync()), so a steady overwrite workload is not fsynced every commit interval.
        boolean grew = h.entry.extendTo(end);
        h.entry.dataChanged(Catalog.nowNs());
        if (grew || mapped > 0) {
            commits.mark();
        } else {
            commits.touch();
        }
    }

    /**
     * {@link #write} of {@code length} bytes that {@code src} moves into the data file itself, when the device can
     * take them in place (ThinDevice#writeInPlaceFrom); false (nothing done, {@code src} untouched) otherwise.
     */
    boolean writeInPlaceFrom(Handle h, long offset, int length, ExternalBytes src) {
        if (h.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        forgetReceivedImage(h);
        boolean done;
        try {
            done = h.device.writeInPlaceFrom(offset, length, src);
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        if (done) {
            written(h, offset + length, 0);      // in place: no mapping changed
        }
        return done;
    }

    /**
     * lseek SEEK_DATA ({@code data}) or SEEK_HOLE: data is a mapped block (or one a base image shows through), a
     * hole an unmapped one, at block
     * granularity, as lseek(2) says: an offset at or past the size is ENXIO; SEEK_DATA with no data after the
     * offset is ENXIO; SEEK_HOLE with no hole before the end answers the size (the implicit hole at the end).
     * Costs what is mapped from the offset on, never the size.
     */
    long seek(Handle h, long offset, boolean data) {
        long size = h.entry.size;
        if (offset < 0 || offset >= size) {
            throw new FsException(Code.ENXIO, "offset " + offset + " is not before the end (" + size + ")");
        }
        long block = offset / blockSize;
        long lastBlock = (size - 1) / blockSize;
        long found;
        try {
            found = data ? h.device.nextData(block, lastBlock + 1) : h.device.nextHole(block, lastBlock + 1);
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        if (found < 0) {
            if (data) {
                throw new FsException(Code.ENXIO, "no data after offset " + offset);
            }
            return size;
        }
        return Math.min(size, Math.max(offset, found * blockSize));
    }

    /**
     * copy_file_range: up to {@code length} bytes of {@code in} from {@code inOffset} (fewer at its end), to
     * {@code out} at {@code outOffset}, which grows when the copy runs past its end. Whole blocks aligned on both
     * sides are shared with the source (copy on write afterwards, as after a snapshot), the rest is copied. Durable
     * as writes are: on fsync or at the next commit. At most 4 GiB less a block per call (the reply's width; callers
     * loop).
     */
    long copyRange(Handle in, long inOffset, Handle out, long outOffset, long length) {
        if (out.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        if (inOffset < 0 || outOffset < 0 || length < 0) {
            throw new FsException(Code.EINVAL, "negative offset or length");
        }
        long n = Math.min(length, Math.max(0, in.entry.size - inOffset));
        n = Math.min(n, (0xFFFF_FFFFL / blockSize) * blockSize);
        if (n == 0) {
            return 0;
        }
        if (outOffset + n < outOffset) {
            throw new FsException(Code.EINVAL, "the copy would end past the largest size");
        }
        if (in.device.id() == out.device.id() && inOffset < outOffset + n && outOffset < inOffset + n) {
            throw new FsException(Code.EINVAL, "overlapping ranges of one file");
        }
        forgetReceivedImage(out);
        commits.mark();                  // a long copy's progress is committed by the periodic commits on the way
        try {
            pool.copyRange(in.device, inOffset, out.device, outOffset, n);
        } catch (OutOfDataSpaceException e) {
            throw new FsException(Code.ENOSPC, e.getMessage());
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        out.entry.extendTo(outOffset + n);
        out.entry.dataChanged(Catalog.nowNs());
        commits.mark();
        return n;
    }

    /**
     * fallocate ZERO_RANGE: afterwards the range reads zeros; whole blocks are unmapped (a metadata operation, so
     * mkfs's and the loop driver's BLKZEROOUT cost no data), partial edges zeroed; the volume grows to the range's
     * end unless {@code keepSize}.
     */
    void zeroRange(Handle h, long offset, long length, boolean keepSize) {
        long end = writableRange(h, offset, length);
        forgetReceivedImage(h);
        long zeroEnd = Math.min(h.entry.size, end);
        if (zeroEnd > offset) {
            h.device.zeroOut(offset, zeroEnd - offset);
        }
        if (!keepSize) {
            h.entry.extendTo(end);
        }
        h.entry.dataChanged(Catalog.nowNs());
        commits.mark();
    }

    /**
     * fallocate mode 0 and KEEP_SIZE: every block of the range is mapped (unmapped ones to zeroed blocks), so later
     * writes there never fail for space; refused with ENOSPC, changing nothing, when the pool cannot hold them all.
     * The volume grows to the range's end unless {@code keepSize}.
     */
    void preallocate(Handle h, long offset, long length, boolean keepSize) {
        long end = writableRange(h, offset, length);
        try {
            h.device.provision(offset, length);
        } catch (OutOfDataSpaceException e) {
            throw new FsException(Code.ENOSPC, e.getMessage());
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        } finally {
            commits.mark();              // what was provisioned before a failure is committed like any mapping
        }
        if (!keepSize && h.entry.extendTo(end)) {
            h.entry.dataChanged(Catalog.nowNs());
            commits.mark();
        }
    }

    /**
     * A volume that an import made equal to a known image (Entry#received) stops being that image with its first
     * change, and the catalog must say so before any changed byte can reach the disk: an in-place write is durable
     * on a data flush alone, and a crash that kept the old catalog would let the next incremental stream apply on
     * top of bytes it does not describe. So the first change after an import commits the forgetting first (one
     * commit per import, none afterwards: the field stays null).
     */
    private void forgetReceivedImage(Handle h) {
        if (h.entry.received != null) {
            h.entry.received = null;
            commits.mark();
            commits.commitChange();
        }
    }

    /** The end of a range a fallocate may change; EROFS for a snapshot, EINVAL for a bad range. */
    private static long writableRange(Handle h, long offset, long length) {
        if (h.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        if (offset < 0 || length <= 0 || offset + length < offset) {
            throw new FsException(Code.EINVAL, "bad range: offset " + offset + ", length " + length);
        }
        return offset + length;
    }

    /**
     * fallocate PUNCH_HOLE and NBD TRIM: whole blocks are unmapped, partial edges zeroed (on a volume over a base
     * image: the range reads the image again, unless it was made with discards that zero; see DeviceRanges).
     */
    void punchHole(Handle h, long offset, long length) {
        if (h.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        long end = Math.min(h.entry.size, offset + length);
        forgetReceivedImage(h);
        if (end > offset) {
            h.device.discard(offset, end - offset);
        }
        h.entry.dataChanged(Catalog.nowNs());
        commits.mark();
    }

    PoolFileSystem.Space space() {
        PoolUsage u = pool.usage();
        long total = u.dataBlocks() * u.dataBlockSize();
        return new PoolFileSystem.Space(total, (u.dataBlocks() - u.dataBlocksUsed()) * u.dataBlockSize(),
                u.dataBlockSize(), pool.deviceIds().size(), org.thinfs.core.format.Layout.MAX_THIN_DEVICE_ID + 1);
    }
}
