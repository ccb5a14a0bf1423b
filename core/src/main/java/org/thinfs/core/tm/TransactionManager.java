package org.thinfs.core.tm;

import org.thinfs.core.io.Block;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.io.BlockValidator;
import org.thinfs.core.sm.SpaceMap;

import java.util.HashSet;
import java.util.Set;

/**
 * Shadowing on top of the block manager and the metadata space map.
 *
 * <p>Invariant: a block reachable from the committed superblock is never written. A caller that wants to change
 * a block asks for a {@link #shadow}: a block allocated in this transaction and referenced once is returned as it
 * is; any other block is copied to a freshly allocated one and its own count dropped by one. When the original was
 * shared (count above one), the caller must increment everything the copy references, since the copy is a new
 * referrer: {@link Shadow#incChildren()} says so.
 *
 * <p>Commit is the caller's (ThinMetadata's): write the space maps, {@link BlockManager#flush()} everything but the
 * superblock, write the superblock last, then {@link #endTransaction()}.
 */
public final class TransactionManager {
    private final BlockManager blocks;
    private final SpaceMap metadataSpace;
    /** Blocks allocated in this transaction: not part of the committed state, so they may change in place. */
    private final Set<Long> fresh = new HashSet<>();

    public TransactionManager(BlockManager blocks, SpaceMap metadataSpace) {
        this.blocks = blocks;
        this.metadataSpace = metadataSpace;
    }

    /** The result of shadowing: the writable block and whether the original was shared. */
    public record Shadow(Block block, boolean incChildren) {
    }

    public BlockManager blocks() {
        return blocks;
    }

    public SpaceMap space() {
        return metadataSpace;
    }

    public Block read(long nr, BlockValidator validator) {
        return blocks.read(nr, validator);
    }

    /** Allocates a zeroed, writable block with count 1. */
    public Block newBlock(BlockValidator validator) {
        long nr = metadataSpace.allocate();
        fresh.add(nr);
        return blocks.zeroed(nr, validator);
    }

    public Shadow shadow(long nr, BlockValidator validator) {
        int count = metadataSpace.count(nr);
        if (count == 0) {
            throw new org.thinfs.core.CorruptMetadataException(nr,
                    "referenced block has reference count 0 in the metadata space map");
        }
        Block original = blocks.read(nr, validator);
        if (count == 1 && fresh.contains(nr)) {
            blocks.markDirty(original);
            return new Shadow(original, false);
        }
        Block copy = newBlock(validator);
        copy.copyFrom(original);
        metadataSpace.dec(nr);
        return new Shadow(copy, count > 1);
    }

    public boolean isFresh(long nr) {
        return fresh.contains(nr);
    }

    public void inc(long nr) {
        metadataSpace.inc(nr);
    }

    public void dec(long nr) {
        metadataSpace.dec(nr);
    }

    public int count(long nr) {
        return metadataSpace.count(nr);
    }

    /** Called after the superblock of a commit is durable, or after an abort: nothing is fresh any more. */
    public void endTransaction() {
        fresh.clear();
    }
}
