package org.thinfs.core.pool;

import org.thinfs.core.StorageIOException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The data device as a file: positional FileChannel I/O, zero fill and block copy without heap garbage. */
public final class DataFile extends ChannelDataStore {
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
        try {
            while (src.hasRemaining()) {
                pos += channel.write(src, pos);
            }
        } catch (IOException e) {
            throw StorageIOException.of("cannot write the data file " + path + " at byte " + pos, e);
        }
    }
}
