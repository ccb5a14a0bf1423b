package org.thinfs.core.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * An array of 4096-byte metadata blocks. Reads and writes move exactly one whole block; a write is durable only
 * after {@link #flush()} returns. Implementations used in tests wrap another device to drop, tear or reorder writes.
 */
public interface BlockDevice extends Closeable {
    /** Number of whole blocks the device holds. */
    long nrBlocks() throws IOException;

    /** Reads block {@code nr} into {@code dst} (remaining must be 4096). */
    void read(long nr, ByteBuffer dst) throws IOException;

    /** Writes block {@code nr} from {@code src} (remaining must be 4096). */
    void write(long nr, ByteBuffer src) throws IOException;

    /** Makes every write so far durable. */
    void flush() throws IOException;
}
