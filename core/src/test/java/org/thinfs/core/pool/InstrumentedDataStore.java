package org.thinfs.core.pool;

import org.thinfs.core.StorageIOException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/** A data store that counts its read and write calls and fails them with EIO while told to. */
final class InstrumentedDataStore implements DataStore {
    final DataStore inner;
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger writes = new AtomicInteger();
    final java.util.concurrent.atomic.AtomicLong bytesWritten = new java.util.concurrent.atomic.AtomicLong();
    volatile boolean failWrites;
    volatile boolean failReads;

    InstrumentedDataStore(DataStore inner) {
        this.inner = inner;
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public void ensureSize(long bytes) {
        inner.ensureSize(bytes);
    }

    @Override
    public void read(long pos, ByteBuffer dst) {
        reads.incrementAndGet();
        if (failReads) {
            throw StorageIOException.of("cannot read the data file", new IOException("injected EIO"));
        }
        inner.read(pos, dst);
    }

    @Override
    public void write(long pos, ByteBuffer src) {
        writes.incrementAndGet();
        bytesWritten.addAndGet(src.remaining());
        if (failWrites) {
            throw StorageIOException.of("cannot write the data file", new IOException("injected EIO"));
        }
        inner.write(pos, src);
    }

    @Override
    public void flush() {
        inner.flush();
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
