package org.thinfs.core.pool;

import org.thinfs.core.StorageIOException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The data device as a file: positional FileChannel I/O, zero fill and block copy without heap garbage. */
public final class DataFile implements DataStore {
    private static final int CHUNK = 1 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();
    private static final ThreadLocal<ByteBuffer> COPY_BUFFER = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(CHUNK));

    private final FileChannel channel;
    private final Path path;

    public DataFile(Path path, boolean writable) throws IOException {
        this.path = path;
        this.channel = writable
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ);
    }

    @Override
    public long size() {
        try {
            return channel.size();
        } catch (IOException e) {
            throw new StorageIOException("cannot size the data file " + path, e);
        }
    }

    @Override
    public void ensureSize(long bytes) {
        try {
            if (channel.size() < bytes) {
                channel.write(ByteBuffer.allocate(1), bytes - 1);
            }
        } catch (IOException e) {
            throw new StorageIOException("cannot grow the data file " + path, e);
        }
    }

    @Override
    public void read(long pos, ByteBuffer dst) {
        try {
            while (dst.hasRemaining()) {
                int n = channel.read(dst, pos);
                if (n < 0) {
                    zero(dst, dst.remaining());
                    return;
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new StorageIOException("cannot read the data file " + path + " at byte " + pos, e);
        }
    }

    @Override
    public void write(long pos, ByteBuffer src) {
        try {
            while (src.hasRemaining()) {
                pos += channel.write(src, pos);
            }
        } catch (IOException e) {
            throw new StorageIOException("cannot write the data file " + path + " at byte " + pos, e);
        }
    }

    @Override
    public void writeZeros(long pos, long length) {
        while (length > 0) {
            int n = (int) Math.min(length, CHUNK);
            write(pos, ZEROS.duplicate().limit(n));
            pos += n;
            length -= n;
        }
    }

    @Override
    public void copy(long from, long to, long length) {
        ByteBuffer buf = COPY_BUFFER.get();
        while (length > 0) {
            int n = (int) Math.min(length, CHUNK);
            buf.clear().limit(n);
            read(from, buf);
            buf.flip();
            write(to, buf);
            from += n;
            to += n;
            length -= n;
        }
    }

    @Override
    public void flush() {
        try {
            channel.force(false);
        } catch (IOException e) {
            throw new StorageIOException("cannot flush the data file " + path, e);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    static void zero(ByteBuffer dst, int n) {
        int end = dst.position() + n;
        while (dst.position() < end) {
            int chunk = Math.min(end - dst.position(), CHUNK);
            dst.put(ZEROS.duplicate().limit(chunk));
        }
    }
}
