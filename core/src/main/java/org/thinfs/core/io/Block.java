package org.thinfs.core.io;

import org.thinfs.core.format.Layout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One cached 4096-byte metadata block. Its buffer is little-endian and absolute-indexed (position is unused).
 * A block is writable only when the transaction manager handed it out as new or shadowed in this transaction.
 */
public final class Block {
    private final long nr;
    private final ByteBuffer data;
    private BlockValidator validator;
    private boolean dirty;

    Block(long nr, BlockValidator validator) {
        this.nr = nr;
        this.validator = validator;
        this.data = ByteBuffer.allocate(Layout.BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    }

    public long nr() {
        return nr;
    }

    /** The block's bytes; callers use absolute get/put only. */
    public ByteBuffer data() {
        return data;
    }

    BlockValidator validator() {
        return validator;
    }

    void setValidator(BlockValidator v) {
        this.validator = v;
    }

    boolean isDirty() {
        return dirty;
    }

    void setDirty(boolean d) {
        this.dirty = d;
    }

    /** Copies the whole content of {@code other} into this block. */
    public void copyFrom(Block other) {
        data.put(0, other.data, 0, Layout.BLOCK_SIZE);
    }
}
