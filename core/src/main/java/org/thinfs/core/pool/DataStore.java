package org.thinfs.core.pool;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The data device of a pool: data block {@code d} occupies bytes {@code d × blockSize} onwards. Writes are durable
 * only after {@link #flush()}; the pool flushes before every metadata commit. The file implementation is the
 * production one; tests wrap it to lose, tear or reorder what was not flushed.
 */
public interface DataStore extends Closeable {
    long size();

    /** Extends the store (sparsely) to at least {@code bytes}. */
    void ensureSize(long bytes);

    /** Reads dst.remaining() bytes at {@code pos}; bytes past the end read as zeros. */
    void read(long pos, ByteBuffer dst);

    void write(long pos, ByteBuffer src);

    /**
     * {@link #write}, into blocks that were written before (a write in place, nothing provisioned or copied), so the
     * store may use larger pieces than for fresh blocks (DataFile#WRITE_BYTES says when and why fresh blocks get
     * small ones).
     */
    default void writeInPlace(long pos, ByteBuffer src) {
        write(pos, src);
    }

    /** Whether {@link #writeInPlaceFrom} works here (a plain data file or device, not an O_DIRECT or test store). */
    default boolean takesExternalBytes() {
        return false;
    }

    /** {@link #writeInPlace} of {@code length} bytes that {@code src} moves into the file itself. */
    default void writeInPlaceFrom(long pos, int length, ExternalBytes src) {
        throw new UnsupportedOperationException("this data store takes no external bytes");
    }

    void flush();

    default void writeZeros(long pos, long length) {
        DataBuffers.writeZeros(this, pos, length);
    }

    /** Copies {@code length} bytes from {@code from} to {@code to} within the store. */
    default void copy(long from, long to, long length) {
        DataBuffers.copy(this, from, to, length);
    }

    /**
     * About how many bytes were written since the last flush started (a hint: writes that fill or copy blocks
     * without passing through {@link #write} are not counted), or -1 when the store does not count.
     */
    default long unflushedBytes() {
        return -1;
    }

    /** Tells a waiter about writes to this store, or null when the store does not (test stores). */
    default WriteSignal writeSignal() {
        return null;
    }

    @Override
    void close() throws IOException;
}
