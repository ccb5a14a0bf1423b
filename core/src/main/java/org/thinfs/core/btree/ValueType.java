package org.thinfs.core.btree;

import java.nio.ByteBuffer;

/**
 * What a btree's leaf values are, so the tree keeps reference counts right without knowing what it stores.
 * {@link #inc} runs for every value of a leaf copied out of a shared node (the copy is a new referrer);
 * {@link #dec} runs when a value leaves the tree (removed, overwritten by a different value, or its leaf freed).
 */
public interface ValueType {
    int size();

    default void inc(ByteBuffer leaf, int offset) {
    }

    default void dec(ByteBuffer leaf, int offset) {
    }

    /** Values that hold no references: device details, index entries, ref counts. */
    static ValueType plain(int size) {
        return () -> size;
    }
}
