package org.thinfs.core.pool;

import java.nio.ByteBuffer;

/** A thin volume of a {@link ThinPool}: byte-addressed I/O over its mapping tree. SKELETON. */
public final class ThinDevice {
    private ThinDevice() {
    }

    public long id() {
        throw new UnsupportedOperationException();
    }

    /** Fills {@code dst} from byte {@code offset}; unmapped ranges read as zeros. */
    public void read(long offset, ByteBuffer dst) {
        throw new UnsupportedOperationException();
    }

    /**
     * Writes {@code src} at byte {@code offset}, provisioning unmapped blocks and copying shared ones first.
     *
     * @throws org.thinfs.core.OutOfDataSpaceException when a needed block cannot be allocated; nothing was written
     */
    public void write(long offset, ByteBuffer src) {
        throw new UnsupportedOperationException();
    }

    /** Unmaps every whole data block inside [offset, offset + length); partial blocks at the edges are zeroed. */
    public void discard(long offset, long length) {
        throw new UnsupportedOperationException();
    }

    /** Number of mapped data blocks. */
    public long mappedBlocks() {
        throw new UnsupportedOperationException();
    }
}
