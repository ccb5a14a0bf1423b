package org.thinfs.core.thin;

import org.thinfs.core.ChangeRefusedException;
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
     * Takes the snapshot in {@code tx}: {@code commit} publishes the current state first, so the snapshot is of
     * everything done until now.
     */
    static void take(MetadataTransaction tx, Runnable commit) {
        if (tx.state.heldRoot() != 0) {
            throw new ChangeRefusedException("a metadata snapshot is already held (block " + tx.state.heldRoot()
                    + ")");
        }
        tx.changed = true;
        commit.run();
        tx.state = tx.state.withHeldRoot(reserve(tx.tm, tx.committed));
        // The committed roots are shared with the snapshot now: the next change must shadow from the top again.
        tx.mappings.endTransaction();
        tx.changed = true;
    }

    /** Drops the snapshot held in {@code tx}, and everything only it referenced. */
    static void drop(MetadataTransaction tx) {
        if (tx.state.heldRoot() == 0) {
            throw new ChangeRefusedException("no metadata snapshot is held");
        }
        release(tx.tm, tx.state.heldRoot(), tx.mappings, tx.details);
        tx.state = tx.state.withHeldRoot(0);
        tx.changed = true;
    }

    /**
     * Writes the copy of {@code committed} (which must be the state just committed) and raises both roots' counts;
     * returns the copy's block number, the new held root.
     */
    private static long reserve(TransactionManager tm, Superblock committed) {
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
    private static void release(TransactionManager tm, long heldRoot, MappingTree mappings, DetailsTree details) {
        Block b = tm.read(heldRoot, Validators.SUPERBLOCK);
        Superblock held = Superblock.decode(b.data());
        mappings.deleteTopLevel(held.dataMappingRoot());
        details.deleteTree(held.deviceDetailsRoot());
        tm.dec(heldRoot);
    }
}
