package org.thinfs.core.pool;

import org.thinfs.core.StorageIOException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The data device as a file: positional FileChannel I/O, zero fill and block copy without heap garbage. */
public final class DataFile extends ChannelDataStore {
    /**
     * The most one pwrite covers, and the boundary (a multiple of it) no pwrite crosses: 64 KiB, or
     * {@code -Dthinfs.dataWriteBytes}. The host's page cache sizes the folio a write creates by the write's length
     * (large folios, ext4 since Linux 6.16), and every later small write into a folio walks all of its buffer heads,
     * in the write and again in the writeback the write-behind starts. Measured on a mount (fio 4 KiB O_DIRECT random
     * writes after a fill of 1 MiB writes): 68 us per write, against 42 us after a fill of 64 KiB writes and 37 us
     * after 16 KiB. A 1 MiB write pays 16 system calls instead of one, a few microseconds.
     */
    static final int WRITE_BYTES = Math.max(4096, Integer.getInteger("thinfs.dataWriteBytes", 64 << 10));
    /** A block device: its size is fixed (grown only by growing the device: lvextend, losetup -c). */
    private final boolean device;

    public DataFile(Path path, boolean writable) throws IOException {
        super(writable
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ), path, "data file");
        this.device = org.thinfs.core.io.Devices.isBlockDevice(path);
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
        int limit = src.limit();
        wrote(src.remaining());
        try {
            while (src.position() < limit) {
                long end = Math.min(pos + (limit - src.position()), (pos / WRITE_BYTES + 1) * WRITE_BYTES);
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
        }
    }
}
