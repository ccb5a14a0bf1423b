package org.thinfs.core.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.OutOfMetadataSpaceException;
import org.thinfs.core.StorageIOException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.UnexpectedFailureException;
import org.thinfs.core.thin.ThinMetadata;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The only way to the pool's {@link ThinMetadata}: every query and change runs under one lock, and a change that
 * fails half way (corruption, an I/O error, metadata space exhausted, an Error) rolls the metadata back to the last
 * commit and switches the pool to read-only, as dm-thin does. Holds no lock of its own besides {@link #lock}, and
 * takes it only for btree and space-map work, never around data I/O.
 */
final class MetadataGuard {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataGuard.class);

    /** Guarded by {@link #lock}. */
    private final ThinMetadata metadata;
    private final ReentrantLock lock = new ReentrantLock();
    private final String poolName;
    /** Called under the lock after a rollback: forget whatever was derived from the lost transaction. */
    private final Runnable onRollback;
    private final Consumer<PoolEvent> events;
    /** Why changes are refused, or null; set once, never cleared (a read-only pool stays so until reopened). */
    private volatile String readOnlyReason;

    MetadataGuard(ThinMetadata metadata, String poolName, String readOnlyReason, Runnable onRollback,
                  Consumer<PoolEvent> events) {
        this.metadata = metadata;
        this.poolName = poolName;
        this.readOnlyReason = readOnlyReason;
        this.onRollback = onRollback;
        this.events = events;
    }

    /** Runs a query under the lock. */
    <T> T read(Function<ThinMetadata, T> query) {
        lock.lock();
        try {
            return query.apply(metadata);
        } finally {
            metadata.trimCache();
            lock.unlock();
        }
    }

    /** Runs a change under the lock; refused when read-only; a failure that may leave it half done is {@link #fail}. */
    <T> T change(Function<ThinMetadata, T> change) {
        lock.lock();
        try {
            requireWritable();
            try {
                return change.apply(metadata);
            } catch (CorruptMetadataException | StorageIOException | OutOfMetadataSpaceException e) {
                fail(e);
                throw e;
            } catch (Error e) {
                // Out of memory or a stack overflow can stop a change half way, as an I/O error can.
                fail(new UnexpectedFailureException(e));
                throw e;
            }
        } finally {
            metadata.trimCache();
            lock.unlock();
        }
    }

    /**
     * Commits under the lock, running {@code beforeSuperblock} just before the superblock is written (see
     * ThinMetadata#commit(Runnable)), and then runs {@code after} (still under the lock); null without committing
     * when the pool is read-only or nothing changed. A failed commit switches the pool to read-only.
     */
    <T> T commit(Runnable beforeSuperblock, Function<ThinMetadata, T> after) {
        lock.lock();
        try {
            if (readOnlyReason != null || !metadata.hasUncommittedChanges()) {
                return null;
            }
            try {
                metadata.commit(beforeSuperblock);
            } catch (RuntimeException e) {
                fail(e);
                events.accept(PoolEvent.of(PoolEvent.Kind.COMMIT_FAILED, "commit failed: " + e.getMessage()));
                throw e;
            } catch (Error e) {
                fail(new UnexpectedFailureException(e));
                throw e;
            }
            return after.apply(metadata);
        } finally {
            metadata.trimCache();
            lock.unlock();
        }
    }

    void requireWritable() {
        String reason = readOnlyReason;
        if (reason != null) {
            throw new MetadataReadOnlyException("pool " + poolName + " is read-only: " + reason);
        }
    }

    boolean isReadOnly() {
        return readOnlyReason != null;
    }

    String readOnlyReason() {
        return readOnlyReason;
    }

    /** True while other threads wait for the lock (a long job in steps lets them go first). */
    boolean hasWaiters() {
        return lock.hasQueuedThreads();
    }

    boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    /** Closes the metadata file; the caller committed and stopped every request. */
    void close() throws java.io.IOException {
        metadata.close();
    }

    /** Rolls back to the last commit and refuses every later change; called under the lock. */
    private void fail(RuntimeException e) {
        String reason = "metadata operation failed (" + e.getMessage() + "); uncommitted changes were rolled back";
        readOnlyReason = reason; // first: requests that check without the lock stop at once
        // The one log of this failure: its sentence and its cause's; the stack only at debug (logs reach users).
        LOG.error("pool {} switched to read-only: {}{}", poolName, e.getMessage(),
                e.getCause() == null ? "" : " (cause: " + e.getCause() + ")");
        LOG.debug("pool {}: the failure that switched it to read-only", poolName, e);
        try {
            metadata.abort();
            if (e instanceof CorruptMetadataException) {
                // As dm-thin: corruption found while working keeps the pool read-only until it is checked.
                metadata.setNeedsCheck();
                reason += "; the metadata is flagged NEEDS_CHECK: run 'thinfs check'";
                readOnlyReason = reason;
            }
        } catch (ThinfsException | IllegalStateException again) {
            LOG.error("pool {}: rollback failed too: {}", poolName, again.getMessage());
        }
        onRollback.run();
        events.accept(PoolEvent.of(PoolEvent.Kind.READ_ONLY, "pool " + poolName + " is read-only: " + reason));
        if (e instanceof CorruptMetadataException) {
            events.accept(PoolEvent.of(PoolEvent.Kind.NEEDS_CHECK, "the metadata of pool " + poolName
                    + " is flagged NEEDS_CHECK: run 'thinfs check'"));
        }
    }
}
