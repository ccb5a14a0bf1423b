package org.thinfs.core.thin;

import org.thinfs.core.format.Layout;
import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.sm.disk.DiskSpaceMap;
import org.thinfs.core.tm.TransactionManager;

/**
 * The state of one metadata transaction and the two ways it ends: {@link #commit} publishes it, {@link #abort}
 * rebuilds everything from the last committed superblock. {@link ThinMetadata} makes the changes; this class owns the
 * order that makes them crash-safe.
 *
 * <p>State: the two trees (each holding its working root), both space maps, and {@link #state} (time, transaction
 * id, held root, flags). {@link #committed} is the superblock last written; it is immutable and swapped only by a
 * commit (or a NEEDS_CHECK flag), so an abort can always return to it. Every change goes into blocks free in the
 * committed state, so until the superblock is rewritten the previous transaction stays whole on disk.
 *
 * <p>The fields are ThinMetadata's working state, read and written by it directly; nothing else touches them.
 */
final class MetadataTransaction {
    final BlockManager bm;
    final boolean writable;
    /** Most entries of a new mapping or details tree node: BTree.FULL_NODES, or small for tests of deep trees. */
    final int nodeEntries;
    Superblock committed;
    DiskSpaceMap metadataSpace;
    DiskSpaceMap dataSpace;
    TransactionManager tm;
    MappingTree mappings;
    DetailsTree details;
    TransactionState state;
    /** Whether anything changed since the last commit (a commit without changes writes nothing). */
    boolean changed;

    private MetadataTransaction(BlockManager bm, boolean writable, int nodeEntries) {
        this.bm = bm;
        this.writable = writable;
        this.nodeEntries = nodeEntries;
    }

    /** New, empty structures on {@code metaBlocks} blocks; the caller commits them. */
    static MetadataTransaction format(BlockManager bm, long metaBlocks, long nrDataBlocks, int dataBlockSectors,
                                      int nodeEntries) {
        MetadataTransaction tx = new MetadataTransaction(bm, true, nodeEntries);
        tx.use(MetadataStructures.format(bm, metaBlocks, nrDataBlocks, nodeEntries));
        tx.state = new TransactionState(0, 0, 0, 0);
        tx.committed = new Superblock(0, 0, new byte[16], Layout.MAGIC, Layout.VERSION, 0, 0, 0,
                SpaceMapRoot.NONE, SpaceMapRoot.NONE, 0, 0, dataBlockSectors, Layout.METADATA_BLOCK_SECTORS,
                metaBlocks, 0, 0, 0);
        tx.changed = true;
        return tx;
    }

    /** The committed state of formatted metadata, its superblock validated as the kernel does. */
    static MetadataTransaction open(BlockManager bm, boolean writable, int nodeEntries) {
        MetadataTransaction tx = new MetadataTransaction(bm, writable, nodeEntries);
        tx.load(SuperblockIO.read(bm, writable));
        return tx;
    }

    /** Rebuilds every piece of transaction state from a committed superblock. */
    private void load(Superblock sb) {
        use(MetadataStructures.open(bm, sb, nodeEntries));
        committed = sb;
        state = TransactionState.of(sb);
        changed = false;
    }

    private void use(MetadataStructures s) {
        tm = s.tm();
        metadataSpace = s.metadataSpace();
        dataSpace = s.dataSpace();
        mappings = s.mappings();
        details = s.details();
    }

    /**
     * Publishes the current state, if it changed: details, then the data space map, then the metadata space map,
     * then every dirty block is written and flushed, then {@code beforeSuperblock} runs, then the superblock is
     * written and flushed. If anything before the superblock fails or {@code beforeSuperblock} throws, the previous
     * transaction is still the one on disk and the exception propagates (the caller aborts).
     */
    void commit(Runnable beforeSuperblock) {
        if (!changed) {
            return;
        }
        details.writeBack();
        SpaceMapRoot data = dataSpace.commit();
        SpaceMapRoot meta = metadataSpace.commit();
        bm.flush();
        beforeSuperblock.run();
        Superblock sb = committed.withCommitState(state.flags(), state.time(), state.transactionId(),
                state.heldRoot(), data, meta, mappings.root(), details.root());
        SuperblockIO.write(bm, sb, Layout.SUPERBLOCK_LOCATION);
        committed = sb;
        tm.endTransaction();
        dataSpace.markCommitted();
        metadataSpace.markCommitted();
        mappings.endTransaction();
        changed = false;
        bm.trim();
    }

    /** Forgets every uncommitted change and reloads the last committed state from disk. */
    void abort() {
        bm.discardAll();
        load(SuperblockIO.read(bm, writable));
    }

    /** Sets NEEDS_CHECK in the superblock at once, outside a commit, as the kernel does after a metadata failure. */
    void setNeedsCheck() {
        Superblock sb = committed.withFlags(committed.flags() | Layout.FLAG_NEEDS_CHECK);
        SuperblockIO.write(bm, sb, Layout.SUPERBLOCK_LOCATION);
        committed = sb;
    }
}
