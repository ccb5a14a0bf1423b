package org.thinfs.core.io;

import org.thinfs.core.format.Layout;

import java.nio.ByteBuffer;

/** A block device in memory, for tests of the layers above block I/O. */
public final class MemoryBlockDevice implements BlockDevice {
    private final byte[][] blocks;

    public MemoryBlockDevice(int nrBlocks) {
        this.blocks = new byte[nrBlocks][];
    }

    @Override
    public long nrBlocks() {
        return blocks.length;
    }

    @Override
    public void read(long nr, ByteBuffer dst) {
        byte[] b = blocks[(int) nr];
        if (b == null) {
            dst.put(new byte[Layout.BLOCK_SIZE]);
        } else {
            dst.put(b);
        }
    }

    @Override
    public void write(long nr, ByteBuffer src) {
        byte[] b = new byte[Layout.BLOCK_SIZE];
        src.get(b);
        blocks[(int) nr] = b;
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
