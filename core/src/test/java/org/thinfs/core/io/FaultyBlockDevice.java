package org.thinfs.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Fails the chosen reads or writes with EIO (an IOException) until {@link #heal()}, or one read with a chosen Error;
 * everything else passes through.
 */
public final class FaultyBlockDevice implements BlockDevice {
    private final BlockDevice inner;
    private long failWritesFrom = Long.MAX_VALUE;
    private long failReadsFrom = Long.MAX_VALUE;
    private long writes;
    private long reads;
    private long injected;
    private volatile Error nextReadError;

    public FaultyBlockDevice(BlockDevice inner) {
        this.inner = inner;
    }

    /** Every write from the {@code n}-th on (counting from now, from 1) fails. */
    public void failWritesAfter(long n) {
        failWritesFrom = writes + n;
    }

    public void failReadsAfter(long n) {
        failReadsFrom = reads + n;
    }

    public void heal() {
        failWritesFrom = Long.MAX_VALUE;
        failReadsFrom = Long.MAX_VALUE;
    }

    public long injected() {
        return injected;
    }

    @Override
    public long nrBlocks() throws IOException {
        return inner.nrBlocks();
    }

    /** The next read throws {@code error} (an OutOfMemoryError, say) instead of reading. */
    public void errorOnNextRead(Error error) {
        nextReadError = error;
    }

    @Override
    public void read(long nr, ByteBuffer dst) throws IOException {
        Error error = nextReadError;
        if (error != null) {
            nextReadError = null;
            injected++;
            throw error;
        }
        if (++reads >= failReadsFrom) {
            injected++;
            throw new IOException("injected EIO reading block " + nr);
        }
        inner.read(nr, dst);
    }

    @Override
    public void write(long nr, ByteBuffer src) throws IOException {
        if (++writes >= failWritesFrom) {
            injected++;
            throw new IOException("injected EIO writing block " + nr);
        }
        inner.write(nr, src);
    }

    @Override
    public void flush() throws IOException {
        if (writes >= failWritesFrom) {
            injected++;
            throw new IOException("injected EIO on flush");
        }
        inner.flush();
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
