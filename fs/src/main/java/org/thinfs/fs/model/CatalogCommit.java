package org.thinfs.fs.model;

import org.thinfs.core.StorageIOException;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.FsException.Code;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Makes names and mappings durable together: the catalog for transaction N+1 goes to its slot, then the pool
 * commits with transaction id N+1 (the catalog, data and metadata flushed side by side, superblock last); see
 * docs/CATALOG.md. Holds the flag that says something changed since the last commit started: set after a change is
 * made, cleared by a commit before it writes anything, so a change racing with a commit is either in it or marks the
 * next one.
 */
final class CatalogCommit {
    private final ThinPool pool;
    private final Path catalogDir;
    /** Guarded by {@link #names}. */
    private final Catalog.Document doc;
    /** The namespace monitor: a commit holds it through the catalog write and the pool commit. */
    private final Object names;
    private volatile boolean dirty;
    /**
     * When {@link #dirty} was last set from clear ({@code System.nanoTime()}): the periodic commit is due an interval
     * after it (see {@link #nanosUntilDue}). Set before {@code dirty}, so a reader that sees {@code dirty} sees a time
     * at least that recent.
     */
    private volatile long dirtySince = System.nanoTime();
    /**
     * Only times changed (a write in place): saved on fsync and at close, and by the periodic commit at most every
     * {@link #TIMES_ONLY_NANOS}, so a steady overwrite workload is not committed every interval for its mtime alone,
     * and a crash loses at most that much of it.
     */
    private volatile boolean timesDirty;
    /** When the times were last made durable (a commit, or the times log). */
    private volatile long timesSavedNanos = System.nanoTime();
    static final long TIMES_ONLY_NANOS = 30_000_000_000L;
    /** Where an fsync that changed times only puts them (null for a pool without a catalog). */
    private final TimesLog timesLog;
    /** The catalog's and the times log's slot files, held open (null for a pool without a catalog). */
    private final SlotFiles slots;

    CatalogCommit(ThinPool pool, Path catalogDir, Catalog.Document doc, Object names) {
        this.pool = pool;
        this.catalogDir = catalogDir;
        this.doc = doc;
        this.names = names;
        this.slots = catalogDir == null ? null : new SlotFiles(catalogDir);
        this.timesLog = slots == null ? null : TimesLog.open(slots);
        if (timesLog != null && !pool.isReadOnly()) {
            try {
                timesLog.preallocate();
                slots.openExisting(Catalog.slot(catalogDir, 0), Catalog.slot(catalogDir, 1),
                        TimesLog.slot(catalogDir, 0), TimesLog.slot(catalogDir, 1));
            } catch (IOException e) {
                // not needed for correctness: the first log makes its file itself, and a slot is opened at its
                // first write when it is not open yet
                org.slf4j.LoggerFactory.getLogger(CatalogCommit.class)
                        .debug("cannot prepare the times log in {}: {}", catalogDir, e.toString());
            }
        }
    }

    /**
     * Records a change, so the next commit covers it. Reads first: a write path that marks every request pays a
     * volatile read, not a store, once the pool is dirty. Skipping the store is safe: a commit clears {@code dirty}
     * before it writes anything, so a change made before this read saw it set is in that commit or a later one.
     */
    void mark() {
        if (!dirty) {
            setDirty();
        }
    }

    private void setDirty() {
        dirtySince = System.nanoTime();
        dirty = true;
    }

    /**
     * How long until the periodic commit is due, in nanoseconds (0 or less: now; Long.MAX_VALUE: nothing to commit).
     * A change is due {@code intervalNanos} after the first change since the last commit, as jbd2 times a
     * transaction from its start: every change is durable within the interval, and a burst of writes shorter than
     * the interval after an idle spell is committed once, after it, instead of being held up by a data flush in
     * its middle. Times alone are due {@link #TIMES_ONLY_NANOS} after they were last saved.
     */
    long nanosUntilDue(long intervalNanos) {
        long now = System.nanoTime();
        if (dirty) {
            return dirtySince + intervalNanos - now;
        }
        if (timesDirty) {
            return timesSavedNanos + TIMES_ONLY_NANOS - now;
        }
        return Long.MAX_VALUE;
    }

    /** Records a change of times only (see {@link #timesDirty}). */
    void touch() {
        if (!timesDirty) {
            timesDirty = true;
        }
    }

    /**
     * Makes everything so far durable: the catalog for transaction N+1 goes to its slot first, then the pool
     * flushes data and commits metadata with transaction id N+1 (superblock last). A crash in between leaves
     * transaction N with its own catalog slot intact.
     */
    void commit() throws IOException {
        commit(TIMES_ONLY_NANOS);
    }

    /** {@link #commit()}, with times alone saved once they are {@code timesAfterNanos} old (tests shorten it). */
    void commit(long timesAfterNanos) throws IOException {
        if (!dirty) {
            if (!timesDirty || System.nanoTime() - timesSavedNanos < timesAfterNanos) {
                return;
            }
            if (timesLog != null) {
                saveTimes();
                return;
            }
        }
        mark();                          // a change, or times alone with no log to hold them: a commit
        // The bulk of the data written since the last commit reaches the disk here, outside the monitor: under
        // heavy writes this flush takes hundreds of milliseconds, and getattr, open and mkdir must not wait for it.
        // The commit below then only flushes what arrived in between, under the pool's gate, not under this monitor.
        pool.preFlush();
        commitNow();
    }

    /**
     * Times alone, from the periodic commit: they go to the times log, with no data flush. None is owed: no mapping
     * changed since the committed transaction (a change would have made the pool dirty), so no metadata points at
     * unflushed data, and data written in place is made durable by fsync, which flushes it (a saved mtime says when
     * a volume changed, not that the change reached the disk). A full data flush here held the writers of a steady
     * overwrite workload every 30 s for as long as the host took to write everything they had left dirty.
     */
    private void saveTimes() throws IOException {
        synchronized (names) {
            if (!dirty && timesDirty) {  // a change made meanwhile is committed, times and all, an interval after it
                logTimesUnderNames();
            }
        }
    }

    /**
     * Makes a namespace change durable before its call returns, as dm-thin commits the metadata after every pool
     * message ({@code create_thin}, {@code create_snap}, {@code delete}): {@code mkdir snapshots/x && upgrade} must
     * leave the snapshot if the host dies during the upgrade. Called after the change, outside the monitor, so the
     * pre-flush of the data (which the metadata about to be committed may point at) does not hold the namespace.
     *
     * <p>Group commit: {@link #commitNow} takes the monitor and commits every change made before it; a change
     * whose call arrives while another commit runs waits on the monitor and then finds {@link #dirty} either
     * cleared by a commit that started after it (it is in that commit, which has finished: the monitor is held to
     * the end) or still set (it commits). Never the unlocked early return of {@link #commit}: a commit that
     * cleared {@code dirty} may still be writing.
     */
    void commitChange() {
        try {
            pool.preFlush();
            commitNow();
        } catch (IOException e) {
            throw new FsException(Code.EIO, "the change is made but could not be committed: " + e.getMessage());
        }
    }

    /** Commits names and metadata; the data was pre-flushed by the caller (the gated flush covers the rest). */
    private void commitNow() throws IOException {
        synchronized (names) {
            commitUnderNames();
        }
    }

    private void commitUnderNames() throws IOException {
        if (!dirty) {
            return;
        }
        if (pool.isReadOnly()) {
            throw new FsException(Code.EROFS, "the pool is read-only: " + pool.readOnlyReason());
        }
        dirty = false;
        timesDirty = false;
        timesSavedNanos = System.nanoTime();
        try {
            Runnable catalogFlush = null;
            if (catalogDir != null) {
                // Numbered from the committed transaction N, not from the id in memory: an attempt that failed
                // after setting the id leaves it at N+1, and numbering from that would write this catalog as N+2,
                // into N's slot, before the superblock moves on: a crash then would reopen N with its names gone.
                // (Such failures turn the pool read-only today, so no attempt follows; the numbering does not
                // rely on that.) So every attempt writes N+1's slot.
                long next = pool.transaction().committedId() + 1;
                doc.transactionId = next;
                Catalog.Written slot = Catalog.writeSlot(slots, doc);
                pool.transaction().setId(pool.transaction().id(), next);
                // Made durable side by side with the data and metadata flushes, before the superblock.
                catalogFlush = () -> {
                    try {
                        slot.makeDurable();
                    } catch (IOException e) {
                        throw StorageIOException.of("cannot flush the catalog " + slot.file(), e);
                    }
                };
            }
            pool.commitPreFlushed(catalogFlush);
        } catch (IOException | RuntimeException e) {
            setDirty();                 // tried again an interval from now
            throw e;
        }
    }

    /**
     * fsync: everything acknowledged so far becomes durable. The data flush covers every write acknowledged before
     * the call, in place or not; a commit follows when a mapping or a name changed; when only times did (writes in
     * place) and {@code withTimes}, they go to the {@link TimesLog} instead of a commit.
     */
    void sync(boolean withTimes) throws IOException {
        if (withTimes && timesDirty && timesLog == null) {
            mark();                      // no catalog to hold a log beside: a commit stores what it can
        }
        ThinPool.PendingFlush inPlace = null;
        if (dirty) {
            // A commit follows, and its flush under the gate covers every write acknowledged before it: either
            // this one's, or that of a commit that cleared dirty after this check (and so flushes after it too).
            pool.preFlush();             // outside the monitor; may leave a little data to the gated flush
        } else {
            pool.freeDeleted();          // outside the monitor: a big delete's remaining frees must not hold it
            // Writes in place: no commit follows to flush them. Beside the times log when there is one to write.
            if (withTimes && timesDirty) {
                inPlace = pool.startFlushData();
            } else {
                pool.flushData();
            }
        }
        try {
            // Under the monitor: a periodic commit may have cleared dirty and still be writing the mapping of a
            // write this fsync covers; waiting for it here is what makes "not dirty" mean "committed".
            synchronized (names) {
                if (dirty) {
                    commitUnderNames();
                } else if (withTimes && timesDirty) {
                    logTimesUnderNames();
                }
            }
        } finally {
            if (inPlace != null) {
                inPlace.await();         // outside the monitor: a large flush of writes in place holds no name
            }
        }
    }

    /** Times changed and nothing else since the last commit: they become durable in the log (see TimesLog). */
    private void logTimesUnderNames() throws IOException {
        if (pool.isReadOnly()) {
            throw new FsException(Code.EROFS, "the pool is read-only: " + pool.readOnlyReason());
        }
        timesDirty = false;              // cleared first: a time changed while the log is written marks it again
        timesSavedNanos = System.nanoTime();
        try {
            timesLog.write(doc, pool.transaction().committedId());
        } catch (IOException | RuntimeException e) {
            timesDirty = true;
            throw e;
        }
    }

    boolean isDirty() {
        return dirty;
    }

    /** Times changed that no commit has stored yet. */
    boolean timesPending() {
        return timesDirty;
    }

    /** Closes the slot files (after the last commit). */
    void close() throws IOException {
        if (slots != null) {
            slots.close();
        }
    }

    /** Commits whatever is pending, times included (unmount). */
    void commitAll() throws IOException {
        if (timesDirty) {
            mark();
        }
        commit();
    }

}
