package org.thinfs.core.pool;

import org.thinfs.core.format.DeviceDetails;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SortedSet;

/**
 * A thin pool: a metadata file in the dm-thin format plus a data file. SKELETON: the API is final, bodies land
 * with the engine.
 */
public final class ThinPool implements Closeable {
    private ThinPool() {
    }

    /** Formats a new pool on existing files (the metadata file must be at least {@code config.metadataSize()}). */
    public static ThinPool create(Path metadata, Path data, PoolConfig config, PoolOptions options)
            throws IOException {
        throw new UnsupportedOperationException("engine not landed yet");
    }

    /** Opens an existing pool; {@code dataBlockSize} must equal the superblock's (0 = take the superblock's). */
    public static ThinPool open(Path metadata, Path data, PoolOptions options) throws IOException {
        throw new UnsupportedOperationException("engine not landed yet");
    }

    /** Bytes per data block. */
    public long dataBlockSize() {
        throw new UnsupportedOperationException();
    }

    public SortedSet<Long> deviceIds() {
        throw new UnsupportedOperationException();
    }

    public ThinDevice createThin(long id) {
        throw new UnsupportedOperationException();
    }

    /** O(1) snapshot: {@code id} shares {@code originId}'s mapping tree. */
    public ThinDevice createSnapshot(long id, long originId) {
        throw new UnsupportedOperationException();
    }

    public void delete(long id) {
        throw new UnsupportedOperationException();
    }

    public ThinDevice device(long id) {
        throw new UnsupportedOperationException();
    }

    public DeviceDetails details(long id) {
        throw new UnsupportedOperationException();
    }

    public long transactionId() {
        throw new UnsupportedOperationException();
    }

    public void setTransactionId(long expectedOld, long newId) {
        throw new UnsupportedOperationException();
    }

    /** Makes every acknowledged write durable: data file flushed, then metadata committed (superblock last). */
    public void commit() {
        throw new UnsupportedOperationException();
    }

    public PoolUsage usage() {
        throw new UnsupportedOperationException();
    }

    /** Grows the data space to {@code newDataBlocks} (the data file is extended as needed). */
    public void resizeData(long newDataBlocks) {
        throw new UnsupportedOperationException();
    }

    /** Grows the metadata space to {@code newMetadataBlocks} 4 KiB blocks (the file is extended as needed). */
    public void resizeMetadata(long newMetadataBlocks) {
        throw new UnsupportedOperationException();
    }

    public boolean isReadOnly() {
        throw new UnsupportedOperationException();
    }

    /** Commits and closes both files. */
    @Override
    public void close() throws IOException {
        throw new UnsupportedOperationException();
    }
}
