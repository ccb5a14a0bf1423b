package org.thinfs.core.io;

import org.thinfs.core.format.Layout;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A {@link BlockDevice} over a regular file or block device, using positional FileChannel I/O. */
public final class FileBlockDevice implements BlockDevice {
    private final FileChannel channel;
    private final Path path;

    private FileBlockDevice(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    public static FileBlockDevice open(Path path, boolean writable) throws IOException {
        FileChannel ch = writable
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(path, StandardOpenOption.READ);
        return new FileBlockDevice(path, ch);
    }

    @Override
    public long nrBlocks() throws IOException {
        return channel.size() / Layout.BLOCK_SIZE;
    }

    @Override
    public void read(long nr, ByteBuffer dst) throws IOException {
        long pos = nr * Layout.BLOCK_SIZE;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new EOFException(path + ": block " + nr + " is past the end of the file");
            }
            pos += n;
        }
    }

    @Override
    public void write(long nr, ByteBuffer src) throws IOException {
        long pos = nr * Layout.BLOCK_SIZE;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
