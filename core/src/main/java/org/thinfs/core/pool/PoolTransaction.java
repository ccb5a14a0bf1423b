package org.thinfs.core.pool;

import org.thinfs.core.thin.ThinMetadata;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A pool's metadata transaction as dm-thin's pool status and messages show and change it: the transaction id
 * (status; {@code set_transaction_id}), whether anything is uncommitted, the needs_check flag, and the metadata
 * snapshot that {@code thin_dump -m} reads ({@code reserve_metadata_snap}, {@code release_metadata_snap}, the held
 * root in the status). Obtained from {@link ThinPool#transaction()}.
 */
public final class PoolTransaction {
    private final ReentrantReadWriteLock gate;
    private final MetadataGuard metadata;
    private final DataStore data;

    PoolTransaction(ReentrantReadWriteLock gate, MetadataGuard metadata, DataStore data) {
        this.gate = gate;
        this.metadata = metadata;
        this.data = data;
    }

    /** The current transaction's id (what the next commit writes). */
    public long id() {
        return metadata.read(ThinMetadata::transactionId);
    }

    /** The transaction id of the superblock last written: what a crash now would reopen. */
    public long committedId() {
        return metadata.read(md -> md.committedSuperblock().transactionId());
    }

    /** dm-thin's {@code set_transaction_id OLD NEW}: refused unless the current id is {@code expectedOld}. */
    public void setId(long expectedOld, long newId) {
        metadata.change(md -> {
            md.setTransactionId(expectedOld, newId);
            return null;
        });
    }

    /** Whether metadata changed since the last commit. */
    public boolean hasUncommittedChanges() {
        return metadata.read(ThinMetadata::hasUncommittedChanges);
    }

    /** Whether the committed metadata carries the NEEDS_CHECK flag. */
    public boolean needsCheck() {
        return metadata.read(md -> md.committedSuperblock().needsCheck());
    }

    /** The block of the held metadata snapshot's superblock, or 0 when none is held. */
    public long heldMetadataRoot() {
        return metadata.read(ThinMetadata::heldRoot);
    }

    /**
     * Takes the metadata snapshot that {@code thin_dump -m} reads (commits first, as the kernel does). Under the
     * gate, with the data flushed first, as any commit: the commit it makes maps no block whose data is not on disk.
     */
    public void reserveMetadataSnapshot() {
        gate.writeLock().lock();
        try {
            data.flush();
            metadata.change(md -> {
                md.reserveMetadataSnapshot();
                return null;
            });
        } finally {
            gate.writeLock().unlock();
        }
    }

    /** Lets go of the held metadata snapshot (refused when none is held). */
    public void releaseMetadataSnapshot() {
        metadata.change(md -> {
            md.releaseMetadataSnapshot();
            return null;
        });
    }
}
