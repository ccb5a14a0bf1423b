package org.thinfs.core.sm.disk;

import org.thinfs.core.format.IndexEntry;

import java.util.List;

/**
 * Where a space map keeps its index entries (one per bitmap): a single index block for the metadata map, a btree
 * for the data map. As the kernel's {@code ll_disk} load/save pair.
 */
interface IndexStore {
    /** Entries for bitmaps 0 … n-1 as committed. */
    List<IndexEntry> load(int n);

    /** Prepares for saving (shadows the index block); may allocate metadata blocks. */
    void beginCommit();

    /** Records the entry of bitmap {@code k}. */
    void save(int k, IndexEntry entry);

    /** Finishes saving; may allocate metadata blocks only if the store is not the metadata map's own. */
    void endCommit();

    /** The index root to publish in the space-map root. */
    long root();
}
