package org.thinfs.core.thin;

import org.thinfs.core.format.Superblock;

/**
 * The superblock fields a transaction changes besides the tree roots and space maps: the pool's time (raised by
 * every snapshot), the transaction id userland sets, the held metadata snapshot's block (0: none) and the flags.
 * Immutable: a change swaps the whole value, so what the next commit writes is always one consistent state, and an
 * abort goes back to {@link #of} the committed superblock.
 */
record TransactionState(int time, long transactionId, long heldRoot, int flags) {
    static TransactionState of(Superblock sb) {
        return new TransactionState(sb.time(), sb.transactionId(), sb.heldRoot(), sb.flags());
    }

    TransactionState nextTime() {
        return new TransactionState(time + 1, transactionId, heldRoot, flags);
    }

    TransactionState withTransactionId(long id) {
        return new TransactionState(time, id, heldRoot, flags);
    }

    TransactionState withHeldRoot(long block) {
        return new TransactionState(time, transactionId, block, flags);
    }
}
