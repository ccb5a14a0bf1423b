package org.thinfs.core.pool;

import org.thinfs.core.StorageIOException;
import org.thinfs.core.io.Devices;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only image that volumes read their unmapped blocks from (dm-thin's external origin, qcow2's backing
 * file): a regular file or a block device, opened read-only and never written. One open image serves every volume
 * over it. Bytes past its end read as zeros.
 */
public final class BaseImage implements Closeable {
    private final Path path;
    private final FileChannel channel;
    private final long size;

    private BaseImage(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    /** Opens {@code path} read-only; its size is the file's length or the block device's capacity. */
    public static BaseImage open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = Devices.isBlockDevice(path) ? Devices.size(path) : ch.size();
            return new BaseImage(path, ch, size);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** Bytes in the image. */
    public long size() {
        return size;
    }

    /** Fills {@code dst} with the image's bytes from {@code offset}; past the end, zeros. */
    void read(long offset, ByteBuffer dst) {
        try {
            while (dst.hasRemaining() && offset < size) {
                int want = (int) Math.min(dst.remaining(), size - offset);
                int limit = dst.limit();
                dst.limit(dst.position() + want);
                int n = channel.read(dst, offset);
                dst.limit(limit);
                if (n < 0) {
                    throw new java.io.EOFException("it ends at byte " + offset + " of " + size
                            + " recorded: it was truncated under the pool");
                }
                offset += n;
            }
        } catch (IOException e) {
            throw StorageIOException.of("cannot read base image " + path, e);
        }
        if (dst.hasRemaining()) {
            DataBuffers.zero(dst, dst.remaining());
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
