package org.thinfs.core.thin;

import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.Block;
import org.thinfs.core.io.Validators;
import org.thinfs.core.tm.TransactionManager;

/**
 * The held metadata snapshot of FORMAT.md 12, which {@code thin_dump -m} reads while the pool runs: a copy of the
 * committed superblock in a block of its own, holding one extra reference on the committed mapping and details
 * roots. Because those roots are then shared, every later change shadows them, and the snapshot's view stays as
 * it was until it is released.
 */
final class MetadataSnapshot {
    private MetadataSnapshot() {
    }

    /**
     * Writes the copy of {@code committed} (which must be the state just committed) and raises both roots' counts;
     * returns the copy's block number, the new held root.
     */
    static long reserve(TransactionManager tm, Superblock committed) {
        Block copy = tm.newBlock(Validators.SUPERBLOCK);
        Superblock held = committed.withBlocknr(copy.nr())
                .withCommitState(committed.flags(), committed.time(), committed.transactionId(), 0,
                        SpaceMapRoot.NONE, SpaceMapRoot.NONE, committed.dataMappingRoot(),
                        committed.deviceDetailsRoot());
        held.encode(copy.data());
        tm.inc(committed.dataMappingRoot());
        tm.inc(committed.deviceDetailsRoot());
        return copy.nr();
    }

    /** Drops the snapshot at {@code heldRoot} and everything only it referenced. */
    static void release(TransactionManager tm, long heldRoot, MappingTree mappings, DetailsTree details) {
        Block b = tm.read(heldRoot, Validators.SUPERBLOCK);
        Superblock held = Superblock.decode(b.data());
        mappings.deleteTopLevel(held.dataMappingRoot());
        details.deleteTree(held.deviceDetailsRoot());
        tm.dec(heldRoot);
    }
}
