package org.thinfs.core.pool;

import org.thinfs.core.StorageIOException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;

/** The data device as a file: positional FileChannel I/O, zero fill and block copy without heap garbage. */
public final class DataFile extends ChannelDataStore {
    /**
     * While a write-behind follows the writes (the mount's), the most one pwrite into fresh blocks covers, and the
     * boundary (a multiple of it) no such pwrite crosses: 64 KiB, or {@code -Dthinfs.dataWriteBytes}. The host's
     * page cache sizes the folio a write creates by the write's length (large folios, ext4 since Linux 6.16), and
     * every later small write into a folio walks all of its buffer heads, in the write and again in the writeback the
     * write-behind starts within milliseconds. Measured on a mount (fio 4 KiB O_DIRECT random writes after a fill of
     * 1 MiB writes): 68 us per write, against 42 us after a fill of 64 KiB writes and 37 us after 16 KiB; again in
     * session 15 (three rounds; BENCHMARKS.md): 16-20k writes/s after 64 KiB pieces, 12-17k after 1 MiB.
     *
     * <p>With no write-behind (thinfs serve) the writeback comes only with a commit, once a second, and the pieces cost
     * more than they save: an NBD copy of 1 GiB into fresh blocks (nbdcopy, 256 KiB requests) took 861-965 ms in
     * 64 KiB pieces and 649-697 ms in one pwrite per request (four rounds each, the same jar, memory prefaulted; the
     * fourth in one pwrite took 959), while 4 KiB random writes afterwards showed no difference beyond the noise; a
     * plain file filled in 64 KiB, 256 KiB or 1 MiB writes took 4 KiB random writes with an fdatasync every 2000 at
     * the same rate. Writes in place always go in one pwrite ({@link #writeInPlace}).
     */
    static final int WRITE_BYTES = Math.max(4096, Integer.getInteger("thinfs.dataWriteBytes", 64 << 10));
    /** A block device: its size is fixed (grown only by growing the device: lvextend, losetup -c). */
    private final boolean device;
    /**
     * Held around each write to a regular file. The host file system serializes buffered writes to one file on its
     * inode lock anyway (ext4, xfs: {@code i_rwsem}, exclusive), and a writer that finds it taken spins on it while
     * the owner runs (the kernel's optimistic spinning): profiled under NBD 1 MiB writes at queue depth 16 on the
     * 2-core VM, 27% of the daemon's CPU samples were that spin, a CPU taken from the threads reading the next
     * payloads. Waiting here parks the thread instead, and a request's pwrites (one per 64 KiB) go in one turn. Null
     * for a block device, which takes no such lock.
     */
    private final ReentrantLock writeTurn;

    public DataFile(Path path, boolean writable) throws IOException {
        super(writable
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ), path, "data file");
        this.device = org.thinfs.core.io.Devices.isBlockDevice(path);
        this.writeTurn = device ? null : new ReentrantLock();
    }

    @Override
    public void ensureSize(long bytes) {
        try {
            if (channel.size() < bytes) {
                if (device) {
                    throw deviceTooSmall(bytes);
                }
                channel.write(ByteBuffer.allocate(1), bytes - 1);
            }
        } catch (IOException e) {
            throw StorageIOException.of("cannot grow the data file " + path, e);
        }
    }

    @Override
    public void read(long pos, ByteBuffer dst) {
        try {
            while (dst.hasRemaining()) {
                int n = channel.read(dst, pos);
                if (n < 0) {
                    DataBuffers.zero(dst, dst.remaining());
                    return;
                }
                pos += n;
            }
        } catch (IOException e) {
            throw StorageIOException.of("cannot read the data file " + path + " at byte " + pos, e);
        }
    }

    @Override
    public void write(long pos, ByteBuffer src) {
        write(pos, src, writeBehindFollows() ? WRITE_BYTES : Integer.MAX_VALUE);
    }

    /**
     * A write into blocks written before: one pwrite for the whole run. Those blocks' pages were made by earlier
     * writes in 64 KiB pieces, and overwriting pages that are in the page cache keeps their size; only pages the
     * host has dropped since come back as large folios. Measured (NBD, 1 MiB writes at queue depth 1 over a
     * provisioned volume, 7 runs each, medians): 0.309 s per GiB in 64 KiB pieces, 0.277 in one.
     */
    @Override
    public void writeInPlace(long pos, ByteBuffer src) {
        write(pos, src, Integer.MAX_VALUE);
    }

    /** In one turn, as {@link #writeInPlace}; the bytes move by {@code src} (a splice from a FUSE request's pipe). */
    @Override
    public boolean takesExternalBytes() {
        return true;
    }

    @Override
    public void writeInPlaceFrom(long pos, int length, ExternalBytes src) {
        wrote(pos, length);
        if (writeTurn != null) {
            writeTurn.lock();
        }
        try {
            src.moveTo(pos, length);
        } catch (IOException e) {
            throw StorageIOException.of("cannot write the data file " + path + " at byte " + pos, e);
        } finally {
            if (writeTurn != null) {
                writeTurn.unlock();
            }
        }
    }

    /** Writes {@code src} at {@code pos} in pwrites of at most {@code piece} bytes that cross no multiple of it. */
    private void write(long pos, ByteBuffer src, long piece) {
        int limit = src.limit();
        wrote(pos, src.remaining());
        if (writeTurn != null) {
            writeTurn.lock();
        }
        try {
            while (src.position() < limit) {
                long end = Math.min(pos + (limit - src.position()), (pos / piece + 1) * piece);
                src.limit(src.position() + (int) (end - pos));
                while (src.hasRemaining()) {
                    pos += channel.write(src, pos);
                }
                src.limit(limit);
            }
        } catch (IOException e) {
            throw StorageIOException.of("cannot write the data file " + path + " at byte " + pos, e);
        } finally {
            src.limit(limit);
            if (writeTurn != null) {
                writeTurn.unlock();
            }
        }
    }
}
