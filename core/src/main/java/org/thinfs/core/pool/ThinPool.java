package org.thinfs.core.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.StorageIOException;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.OutOfMetadataSpaceException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.thin.ThinMetadata;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * A thin pool: a metadata file in the dm-thin format plus a data file of fixed-size data blocks.
 *
 * <p>Locks, in the order they are taken:
 * <ol>
 *   <li>{@link #gate} (read by every I/O, write by commit): a commit waits until no request is between
 *       allocating a data block and publishing its mapping, so a commit never records an allocated block that no
 *       mapping holds, and a block freed in this transaction cannot be reused under an in-flight read.</li>
 *   <li>{@link BlockLocks} per (device, virtual block): held by a write from planning to publishing.</li>
 *   <li>{@link #metadataLock}: guards {@link #metadata}; held only for btree and space-map work, never for
 *       data I/O, so requests on different blocks move data in parallel.</li>
 * </ol>
 *
 * <p>Crash safety: data blocks are flushed before the metadata commit that maps them; the metadata commit
 * writes its superblock last.
 */
public final class ThinPool implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ThinPool.class);
    /** Data flushes before a commit takes the gate, at most. */
    private static final int PRE_FLUSH_PASSES = 3;
    /** A pre-flush this quick left little behind; the next step is the flush under the gate. */
    private static final long QUICK_FLUSH_NANOS = 10_000_000;

    /** Guarded by {@link #metadataLock}. */
    private final ThinMetadata metadata;
    private final DataStore data;
    /** The metadata file, when the pool was opened by path (needed to grow it); null otherwise. */
    private final Path metadataPath;
    /** How the pool is named in messages. */
    private final String name;
    private final long blockSize;
    private final PoolOptions options;
    final ReentrantReadWriteLock gate = new ReentrantReadWriteLock(true);
    /** Device-tree nodes a delete frees per metadata operation (about 100 k data references). */
    private static final int FREE_STEP = 1000;
    /** How long a delete step lets waiting requests go first, at most. */
    private static final long YIELD_NANOS = 1_000_000;
    final ReentrantLock metadataLock = new ReentrantLock();
    final BlockLocks blockLocks = new BlockLocks();
    private final ConcurrentHashMap<Long, ThinDevice> handles = new ConcurrentHashMap<>();
    /**
     * Data blocks whose count dropped to zero in this transaction: punched after the commit. A bit per block (2.5 MiB
     * for 20 M blocks), not a set of boxed numbers: deleting a volume of 10 M mappings frees 10 M blocks in one
     * operation. Blocks past 2^31 are not recorded and stay allocated in the host file. Guarded by metadataLock.
     */
    private final BitSet freedData = new BitSet();
    /** Free data blocks that read as zeros (holes this process punched); null unless PoolOptions#zeroHoles. */
    private final KnownZeroBlocks knownZero;
    private volatile String readOnlyReason;
    private boolean closed;
    /**
     * Receives every {@link PoolEvent}, on the thread where it happened and maybe under the pool's locks (a switch to
     * read-only happens under the metadata lock): a listener must only hand the event on, never block or call the pool.
     */
    private volatile java.util.function.Consumer<PoolEvent> events = e -> { };
    private volatile FullHandler fullHandler = since -> false;

    /**
     * What a write that found no free data block does next, called on the writer's thread with no pool lock held
     * (AutoExtender grows the pool or holds the writer). True: try the write again.
     */
    @FunctionalInterface
    public interface FullHandler {
        boolean retryAfterFull(long firstFailureNanos);
    }

    private ThinPool(ThinMetadata metadata, DataStore data, Path metadataPath, String name, PoolOptions options) {
        this.metadata = metadata;
        this.data = data;
        this.metadataPath = metadataPath;
        this.name = name;
        this.options = options;
        this.blockSize = (long) metadata.dataBlockSectors() * Layout.SECTOR_SIZE;
        this.knownZero = !options.readOnly() && options.zeroHoles() && options.holePuncher() != DataHolePuncher.NONE
                ? new KnownZeroBlocks() : null;
        if (options.readOnly()) {
            readOnlyReason = "the pool was opened read-only";
        } else {
            metadata.dataSpace().setFreeListener(b -> {
                if (b <= Integer.MAX_VALUE) {
                    freedData.set((int) b);
                }
            });
            long low = options.lowWaterBlocks() > 0 ? options.lowWaterBlocks()
                    : metadata.dataSpace().nrBlocks() / 20;
            metadata.dataSpace().setThreshold(low, () -> LOG.warn(
                    "pool {} is running out of data space: {} of {} data blocks free", name,
                    metadata.dataSpace().nrFree(), metadata.dataSpace().nrBlocks()));
            long metaLow = Math.max(16, metadata.metadataSpace().nrBlocks() / 20);
            metadata.metadataSpace().setThreshold(metaLow, () -> LOG.warn(
                    "pool {} is running out of metadata space: {} of {} blocks free; grow it with "
                            + "'thinfs resize --metadata'", name, metadata.metadataSpace().nrFree(),
                    metadata.metadataSpace().nrBlocks()));
            if (knownZero != null) {
                punchFreeSpace();
            }
        }
    }

    /**
     * Makes every free data block a hole and records it as zeros. Whatever a free block holds (a write of a
     * transaction a crash cut short, or a block freed by the last commit whose punch never ran) is gone after this,
     * so no later partial write into it can show old bytes. Runs at open, before any request: nothing is
     * allocated meanwhile. Cost: a pass over the in-memory bitmaps and one fallocate per free run.
     */
    private void punchFreeSpace() {
        long started = System.nanoTime();
        metadata.dataSpace().forEachFreeRun((from, to) -> punchAndRecord(from, to));
        LOG.info("pool {}: {} free data blocks in {} runs are holes, provisioned without zero fill ({} ms)", name,
                knownZero.blocks(), knownZero.runs(), (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Punches [from, to) and, if the punch succeeded and the pool tracks holes, records the blocks as zeros. The caller guarantees that the
     * blocks are free and that no request can allocate them before this returns (pool opening, or the commit's gate).
     * The punch reaches the disk with the data flush that precedes the next commit (fallocate changes the file's
     * extents, which fdatasync persists), so a commit that maps such a block also makes its hole durable; a crash
     * before that commit leaves the block free, and the next open punches it again.
     */
    private void punchAndRecord(long from, long to) {
        try {
            options.holePuncher().punch(from * blockSize, (to - from) * blockSize);
        } catch (IOException e) {
            LOG.warn("could not give free data blocks {}..{} of pool {} back to the host file system: {}", from,
                    to - 1, name, e.getMessage());
            return;
        }
        if (knownZero == null) {
            return;
        }
        metadataLock.lock();
        try {
            knownZero.add(from, to);
        } finally {
            metadataLock.unlock();
        }
    }

    /**
     * Formats a new pool on existing files. The metadata file's size (at most about 15.87 GiB is used) and
     * {@code config.dataSize()} / block size set the two spaces; the data file is extended (sparse) as needed.
     */
    public static ThinPool create(Path metadataPath, Path dataPath, PoolConfig config, PoolOptions options)
            throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(metadataPath.toFile(), "rw")) {
            if (f.length() < config.metadataSize()) {
                f.setLength(config.metadataSize());
            }
        }
        FileBlockDevice dev = FileBlockDevice.open(metadataPath, true);
        DataFile df;
        try {
            df = new DataFile(dataPath, true);
        } catch (IOException e) {
            dev.close();
            throw e;
        }
        return create(dev, df, metadataPath, config, options);
    }

    /**
     * Formats a new pool on a metadata device and a data store (the pool owns and closes both). Without a metadata
     * path the metadata cannot be grown.
     */
    public static ThinPool create(BlockDevice metadataDevice, DataStore dataStore, Path metadataPath,
                                  PoolConfig config, PoolOptions options) throws IOException {
        long bs = config.dataBlockSize();
        if (bs % (Layout.MIN_DATA_BLOCK_SECTORS * Layout.SECTOR_SIZE) != 0
                || !Layout.isValidDataBlockSectors(bs / Layout.SECTOR_SIZE)) {
            closeBoth(metadataDevice, dataStore);
            throw new IllegalArgumentException("data block size must be a multiple of 64 KiB from 64 KiB to 1 GiB, "
                    + "not " + bs + " bytes");
        }
        long nrData = config.dataSize() / bs;
        if (nrData < 1) {
            closeBoth(metadataDevice, dataStore);
            throw new IllegalArgumentException("the data size " + config.dataSize()
                    + " bytes holds no whole data block of " + bs + " bytes");
        }
        ThinMetadata md;
        try {
            md = ThinMetadata.format(metadataDevice, (int) (bs / Layout.SECTOR_SIZE), nrData, options.cacheBlocks());
            dataStore.ensureSize(nrData * bs);
        } catch (RuntimeException e) {
            closeBoth(metadataDevice, dataStore);
            throw e;
        }
        return new ThinPool(md, dataStore, metadataPath, nameOf(metadataDevice, metadataPath), options);
    }

    /** Opens an existing pool, validating its metadata. */
    public static ThinPool open(Path metadataPath, Path dataPath, PoolOptions options) throws IOException {
        FileBlockDevice dev = FileBlockDevice.open(metadataPath, !options.readOnly());
        DataFile df;
        try {
            df = new DataFile(dataPath, !options.readOnly());
        } catch (IOException e) {
            dev.close();
            throw e;
        }
        return open(dev, df, metadataPath, options);
    }

    /** Opens an existing pool on a metadata device and a data store (the pool owns and closes both). */
    public static ThinPool open(BlockDevice metadataDevice, DataStore dataStore, Path metadataPath,
                                PoolOptions options) throws IOException {
        ThinMetadata md;
        try {
            md = ThinMetadata.open(metadataDevice, !options.readOnly(), options.cacheBlocks());
        } catch (RuntimeException e) {
            closeBoth(metadataDevice, dataStore);
            throw e;
        }
        long need = md.dataSpace().nrBlocks() * (long) md.dataBlockSectors() * Layout.SECTOR_SIZE;
        if (!options.readOnly()) {
            dataStore.ensureSize(need);
        }
        return new ThinPool(md, dataStore, metadataPath, nameOf(metadataDevice, metadataPath), options);
    }

    private static String nameOf(BlockDevice dev, Path metadataPath) {
        return metadataPath != null ? metadataPath.toString() : dev.toString();
    }

    private static void closeBoth(BlockDevice dev, DataStore store) throws IOException {
        try {
            dev.close();
        } finally {
            store.close();
        }
    }

    /** How the pool is named in messages. */
    public String name() {
        return name;
    }

    public void setEventListener(java.util.function.Consumer<PoolEvent> listener) {
        events = listener;
    }

    public void setFullHandler(FullHandler handler) {
        fullHandler = handler;
    }

    /** Sends an event to the listener; a listener's failure is logged and goes no further. */
    public void publish(PoolEvent e) {
        try {
            events.accept(e);
        } catch (RuntimeException bad) {
            LOG.warn("pool {}: event listener failed: {}", name, bad.getMessage());
        }
    }

    /** The block of the held metadata snapshot's superblock, or 0 when none is held. */
    public long heldMetadataRoot() {
        return withMetadata(metadata::heldRoot);
    }

    /** Whether metadata changed since the last commit. */
    public boolean hasUncommittedChanges() {
        return withMetadata(metadata::hasUncommittedChanges);
    }

    /** Whether the committed metadata carries the NEEDS_CHECK flag. */
    public boolean needsCheck() {
        return withMetadata(() -> metadata.committedSuperblock().needsCheck());
    }

    /** For ThinDevice#write: a write found the pool full and holds no lock; see {@link FullHandler}. */
    boolean retryAfterFull(long firstFailureNanos) {
        return fullHandler.retryAfterFull(firstFailureNanos);
    }

    /** Bytes per data block. */
    public long dataBlockSize() {
        return blockSize;
    }

    public SortedSet<Long> deviceIds() {
        return withMetadata(metadata::deviceIds);
    }

    public ThinDevice createThin(long id) {
        changeMetadata(() -> {
            metadata.createThin(id);
            return null;
        });
        return device(id);
    }

    /** O(1) snapshot: {@code id} shares {@code originId}'s mapping tree. */
    public ThinDevice createSnapshot(long id, long originId) {
        return createSnapshots(List.of(new long[]{id, originId})).get(0);
    }

    /**
     * Several snapshots in one step: each pair is {new id, origin id}. All or none are created (a failure rolls the
     * metadata back to the last commit), and no write lands between them, so the set is consistent across origins.
     */
    public List<ThinDevice> createSnapshots(List<long[]> pairs) {
        gate.writeLock().lock();
        try {
            changeMetadata(() -> {
                for (long[] p : pairs) {
                    metadata.createSnapshot(p[0], p[1]);
                }
                return null;
            });
        } finally {
            gate.writeLock().unlock();
        }
        List<ThinDevice> out = new ArrayList<>();
        for (long[] p : pairs) {
            out.add(device(p[0]));
        }
        return out;
    }

    /**
     * Deletes a device. Only taking it out of the top-level tree holds the gate (no I/O to it may be in flight);
     * its blocks are then freed in steps of {@link #FREE_STEP} nodes, each its own metadata operation, so I/O to
     * every other device goes on during the delete of a device with millions of mappings. A commit in between
     * finishes the freeing first (ThinMetadata#commit).
     */
    public void delete(long id) {
        gate.writeLock().lock();
        try {
            changeMetadata(() -> {
                metadata.delete(id);
                return null;
            });
            ThinDevice gone = handles.remove(id);
            if (gone != null) {
                gone.markDeleted(); // under the gate: no I/O through it is in flight, and none will start
            }
        } finally {
            gate.writeLock().unlock();
        }
        freeDeleted();
    }

    /**
     * Frees what deletes left to free, one metadata operation of {@link #FREE_STEP} nodes at a time. A caller that
     * holds its own lock around a commit calls this first, outside that lock (as with {@link #preFlush}).
     */
    public void freeDeleted() {
        while (!changeMetadata(() -> metadata.freePending(FREE_STEP))) {
            // The metadata lock is not fair: without a pause this loop would take it again before any waiting
            // request wakes up, and the delete would hold the pool as if it were one operation. The pause is
            // bounded (1 ms), so a steady stream of requests cannot starve the delete, or the commit behind it.
            long until = System.nanoTime() + YIELD_NANOS;
            while (metadataLock.hasQueuedThreads() && System.nanoTime() < until) {
                Thread.yield();
            }
        }
    }

    public ThinDevice device(long id) {
        if (!withMetadata(() -> metadata.exists(id))) {
            throw new org.thinfs.core.NoSuchDeviceException(id);
        }
        return handles.computeIfAbsent(id, k -> new ThinDevice(this, k));
    }

    /** Visits device {@code id}'s mappings with virtual block in [from, to), in order, under the metadata lock. */
    public void forEachMapping(long id, long from, long to, ThinMetadata.MappingVisitor visitor) {
        withMetadata(() -> {
            metadata.lookupRange(id, from, to, visitor);
            return null;
        });
    }

    /**
     * copy_file_range between devices of this pool: aligned whole blocks are shared, the rest copied (see
     * {@link BlockCopier}). Lengths are the caller's to clip to the source's size.
     */
    public void copyRange(ThinDevice src, long srcOffset, ThinDevice dst, long dstOffset, long length) {
        new BlockCopier(this).copy(src, srcOffset, dst, dstOffset, length);
    }

    /** Up to {@code max} mappings of {@code id} in [from, to) as (virtual, data) pairs; see ThinMetadata#mappings. */
    public long[] mappings(long id, long from, long to, int max) {
        return withMetadata(() -> metadata.mappings(id, from, to, max));
    }

    /** The highest mapped virtual block of device {@code id}, or -1 (one root-to-leaf path, not a walk). */
    public long lastMappedBlock(long id) {
        return withMetadata(() -> metadata.lastMappedBlock(id));
    }

    public DeviceDetails details(long id) {
        return withMetadata(() -> metadata.details(id));
    }

    public long transactionId() {
        return withMetadata(metadata::transactionId);
    }

    public void setTransactionId(long expectedOld, long newId) {
        changeMetadata(() -> {
            metadata.setTransactionId(expectedOld, newId);
            return null;
        });
    }

    /** Takes the metadata snapshot that {@code thin_dump -m} reads (commits first, as the kernel does). */
    public void reserveMetadataSnapshot() {
        gate.writeLock().lock();
        try {
            data.flush();
            changeMetadata(() -> {
                metadata.reserveMetadataSnapshot();
                return null;
            });
        } finally {
            gate.writeLock().unlock();
        }
    }

    public void releaseMetadataSnapshot() {
        changeMetadata(() -> {
            metadata.releaseMetadataSnapshot();
            return null;
        });
    }

    /**
     * Makes data written in place durable (flushes the data file) without a metadata commit: enough for writes
     * that mapped no new block. Use {@link #commit} when mappings changed.
     */
    public void flushData() {
        data.flush();
    }

    /**
     * What a commit does before it takes the gate: most dirty data pages reach the disk here, while requests keep
     * flowing, so the flush under the gate only has to cover what arrived in between and I/O pauses for much less
     * than a full flush. Under a writer that keeps the disk busy, a slow pass leaves its own duration's data behind,
     * so passes repeat while they are slow (a few at most: the writer may outrun the disk). A caller that holds its
     * own lock around {@link #commit} calls this first, outside that lock.
     */
    public void preFlush() {
        freeDeleted();
        for (int pass = 0; pass < PRE_FLUSH_PASSES; pass++) {
            long passStart = System.nanoTime();
            data.flush();
            if (System.nanoTime() - passStart < QUICK_FLUSH_NANOS) {
                return;
            }
        }
    }

    /** Makes every acknowledged write durable: data file flushed, then metadata committed (superblock last). */
    public void commit() {
        if (readOnlyReason != null) {
            return;
        }
        preFlush();
        commitPreFlushed();
    }

    /**
     * The rest of {@link #commit} for a caller that ran {@link #preFlush} itself, outside its own lock: the flush
     * under the gate covers only what arrived since, and no further pre-flush pass runs under the caller's lock.
     */
    public void commitPreFlushed() {
        if (readOnlyReason != null) {
            return;
        }
        // A delete in progress still has blocks to free, which must be done before a commit. Help with that here,
        // one step at a time, before taking the gate: freeing under the gate would stop all I/O until it ends.
        freeDeleted();
        long preFlushed = System.nanoTime();
        gate.writeLock().lock();
        long gated = System.nanoTime();
        try {
            data.flush();
            long flushed = System.nanoTime();
            BitSet toPunch;
            metadataLock.lock();
            try {
                if (readOnlyReason != null || !metadata.hasUncommittedChanges()) {
                    return;
                }
                try {
                    metadata.commit();
                } catch (RuntimeException e) {
                    fail(e);
                    publish(PoolEvent.of(PoolEvent.Kind.COMMIT_FAILED, "commit failed: " + e.getMessage()));
                    throw e;
                } catch (Error e) {
                    fail(new ThinfsException(e.toString(), e));
                    throw e;
                }
                toPunch = (BitSet) freedData.clone();
                for (int b = freedData.nextSetBit(0); b >= 0; b = freedData.nextSetBit(b + 1)) {
                    if (metadata.dataSpace().count(b) != 0) {
                        toPunch.clear(b);     // freed, then allocated again in the same transaction
                    }
                }
                freedData.clear();
            } finally {
                metadataLock.unlock();
            }
            if (LOG.isDebugEnabled()) {
                long end = System.nanoTime();
                LOG.debug("commit: waiting for the gate {} us, I/O paused {} us (data flush {} us, metadata {} us)",
                        (gated - preFlushed) / 1000, (end - gated) / 1000, (flushed - gated) / 1000,
                        (end - flushed) / 1000);
            }
            punch(toPunch);
        } finally {
            gate.writeLock().unlock();
        }
    }

    /** Gives each run of freed blocks back to the host file system as one hole. */
    private void punch(BitSet blocks) {
        if (blocks.isEmpty() || options.holePuncher() == DataHolePuncher.NONE) {
            return;
        }
        for (int first = blocks.nextSetBit(0); first >= 0; ) {
            int end = blocks.nextClearBit(first);
            punchAndRecord(first, end); // under the gate: no request can allocate them meanwhile
            first = blocks.nextSetBit(end);
        }
    }

    public PoolUsage usage() {
        return withMetadata(() -> new PoolUsage(blockSize, metadata.dataSpace().nrBlocks(),
                metadata.dataSpace().nrAllocated(), metadata.metadataSpace().nrBlocks(),
                metadata.metadataSpace().nrAllocated(), metadata.transactionId(), metadata.time()));
    }

    /** Grows the data space to {@code newDataBlocks} (the data file is extended as needed). */
    public void resizeData(long newDataBlocks) {
        gate.writeLock().lock();
        try {
            long oldBlocks = changeMetadata(() -> {
                long before = metadata.dataSpace().nrBlocks();
                metadata.resizeData(newDataBlocks);
                return before;
            });
            data.ensureSize(newDataBlocks * blockSize);
            if (knownZero != null && newDataBlocks > oldBlocks) {
                punchAndRecord(oldBlocks, newDataBlocks); // new and free; the gate keeps them from being taken
            }
        } finally {
            gate.writeLock().unlock();
        }
        commit();
        PoolUsage u = usage();
        publish(new PoolEvent(PoolEvent.Kind.EXTENDED, "data", "data space grown to " + newDataBlocks + " blocks",
                u.dataBlocksUsed(), u.dataBlocks()));
    }

    /** Grows the metadata space to {@code newMetadataBlocks} 4 KiB blocks (the file is extended as needed). */
    public void resizeMetadata(long newMetadataBlocks) throws IOException {
        if (metadataPath == null) {
            throw new ThinfsException("pool " + name + " was opened on a device, not a file: grow it yourself");
        }
        gate.writeLock().lock();
        try {
            try (RandomAccessFile f = new RandomAccessFile(metadataPath.toFile(), "rw")) {
                long bytes = newMetadataBlocks * Layout.BLOCK_SIZE;
                if (f.length() < bytes) {
                    f.setLength(bytes);
                }
            }
            changeMetadata(() -> {
                metadata.resizeMetadata(newMetadataBlocks);
                return null;
            });
        } finally {
            gate.writeLock().unlock();
        }
        commit();
        PoolUsage u = usage();
        publish(new PoolEvent(PoolEvent.Kind.EXTENDED, "metadata", "metadata space grown to " + newMetadataBlocks
                + " blocks", u.metadataBlocksUsed(), u.metadataBlocks()));
    }

    public boolean isReadOnly() {
        return readOnlyReason != null;
    }

    /** Why the pool refuses changes, or null. */
    public String readOnlyReason() {
        return readOnlyReason;
    }

    /** Commits and closes both files. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            commit();
        } finally {
            try {
                data.close();
            } finally {
                metadata.close();
            }
        }
    }

    // ---------------------------------------------------------------- for ThinDevice

    DataStore dataFile() {
        return data;
    }

    ThinMetadata metadataUnderLock() {
        assert metadataLock.isHeldByCurrentThread();
        return metadata;
    }

    /** Runs a read-only metadata query under the metadata lock. */
    <T> T withMetadata(Supplier<T> query) {
        metadataLock.lock();
        try {
            return query.get();
        } finally {
            metadata.trimCache();
            metadataLock.unlock();
        }
    }

    /**
     * Runs a metadata change under the metadata lock. A failure that may have left the in-memory trees half
     * changed (corruption, I/O error, metadata space exhausted) rolls back to the last commit and switches the
     * pool to read-only, as dm-thin does.
     */
    <T> T changeMetadata(Supplier<T> change) {
        metadataLock.lock();
        try {
            requireWritable();
            try {
                return change.get();
            } catch (CorruptMetadataException | StorageIOException | OutOfMetadataSpaceException e) {
                fail(e);
                throw e;
            } catch (Error e) {
                // Out of memory or a stack overflow can stop a change half way, as an I/O error can.
                fail(new ThinfsException(e.toString(), e));
                throw e;
            }
        } finally {
            metadata.trimCache();
            metadataLock.unlock();
        }
    }

    void requireWritable() {
        String reason = readOnlyReason;
        if (reason != null) {
            throw new MetadataReadOnlyException("pool " + name + " is read-only: " + reason);
        }
    }

    private void fail(RuntimeException e) {
        readOnlyReason = "metadata operation failed (" + e.getMessage() + "); uncommitted changes were rolled back";
        LOG.error("pool {} switched to read-only: {}", name, e.getMessage());
        try {
            metadata.abort();
            if (e instanceof CorruptMetadataException) {
                // As dm-thin: corruption found while working keeps the pool read-only until it is checked.
                metadata.setNeedsCheck();
                readOnlyReason += "; the metadata is flagged NEEDS_CHECK: run 'thinfs check'";
            }
        } catch (ThinfsException | IllegalStateException again) {
            LOG.error("pool {}: rollback failed too: {}", name, again.getMessage());
        }
        freedData.clear();
        if (knownZero != null) {
            knownZero.clear();
        }
        publish(PoolEvent.of(PoolEvent.Kind.READ_ONLY, "pool " + name + " is read-only: " + readOnlyReason));
        if (e instanceof CorruptMetadataException) {
            publish(PoolEvent.of(PoolEvent.Kind.NEEDS_CHECK, "the metadata of pool " + name
                    + " is flagged NEEDS_CHECK: run 'thinfs check'"));
        }
    }

    // ---------------------------------------------------------------- for ThinDevice: fresh blocks

    /**
     * Called under the metadata lock with every data block just allocated (ThinDevice is the only allocator): true
     * if it reads as zeros, so a provisioning write need not fill the rest of it. Either way the block leaves the
     * set, since it is about to be written; so the set only ever holds free blocks, and freeing needs no check.
     */
    boolean takeKnownZero(long block) {
        assert metadataLock.isHeldByCurrentThread();
        return knownZero != null && knownZero.take(block);
    }

    /** Blocks known to read as zeros (for tests). */
    public long knownZeroBlocks() {
        return knownZero == null ? 0 : withMetadata(knownZero::blocks);
    }
}
