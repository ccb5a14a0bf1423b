package org.thinfs.core.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.thin.ThinMetadata;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * A thin pool: a metadata file in the dm-thin format plus a data file of fixed-size data blocks. This class is the
 * pool's one public model: devices, snapshots, deletes, resizes, commits and events. Its parts, each with one job:
 * {@link PoolFiles} (creating and opening the files), {@link MetadataGuard} (the metadata lock and the switch to
 * read-only), {@link Committer} (flush, commit, punching freed blocks), {@link DeviceChanges} (creating, snapshotting,
 * rolling back and deleting devices), {@link PoolSpace} (usage, growth, low-space warnings), {@link PoolMaps} (what
 * the metadata maps), {@link PoolTransaction} (transaction ids, needs_check, the metadata snapshot) and
 * {@link ThinDevice} (a volume's I/O).
 *
 * <p>Lock order, complete; a thread only ever takes them downwards:
 * <ol>
 *   <li>the front end's own lock (in thinfs: the namespace monitor of PoolFileSystem);</li>
 *   <li>{@link #gate} (read by every I/O, write by commit, snapshot, delete and resize): a commit waits until no
 *       request is between allocating a data block and publishing its mapping, so a commit never records an
 *       allocated block that no mapping holds, and a block freed in this transaction cannot be reused under an
 *       in-flight read;</li>
 *   <li>{@link BlockLocks} per (device, virtual block): held by a write from planning to publishing, taken in
 *       ascending (device, block) order;</li>
 *   <li>the metadata lock ({@link MetadataGuard}): held only for btree and space-map work, never for data I/O, so
 *       requests on different blocks move data in parallel;</li>
 *   <li>the block manager's cache lock, inside ThinMetadata.</li>
 * </ol>
 *
 * <p>Crash safety: data blocks are flushed before the metadata commit that maps them; the metadata commit
 * writes its superblock last; nothing the last commit references is written before the next one.
 */
public final class ThinPool implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ThinPool.class);

    private final MetadataGuard metadata;
    private final DataStore data;
    private final Committer committer;
    private final IoContext io;
    /** How the pool is named in messages. */
    private final String name;
    private final long blockSize;
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock(true);
    private final ConcurrentHashMap<Long, ThinDevice> handles = new ConcurrentHashMap<>();
    private final DeviceBases bases = new DeviceBases();
    /** Guarded by {@code this}. */
    private boolean closed;
    /**
     * Receives every {@link PoolEvent}, on the thread where it happened and maybe under the pool's locks (a switch to
     * read-only happens under the metadata lock): a listener must only hand the event on, never block or call the pool.
     */
    private volatile Consumer<PoolEvent> events = e -> { };
    private volatile FullHandler fullHandler = since -> false;
    private volatile PoolObserver observer = PoolObserver.NONE;
    /** What writes of zeros do to mappings (the mount's zeroes= setting). */
    private volatile ZeroWrites zeroWrites = ZeroWrites.KEEP;
    private final CopySharing copies;
    private final DeviceChanges devices;
    private final PoolSpace space;
    private final PoolMaps maps;
    private final PoolTransaction transaction;

    /**
     * What a write that found no free data block does next, called on the writer's thread with no pool lock held
     * (AutoExtender grows the pool or holds the writer). True: try the write again.
     */
    @FunctionalInterface
    public interface FullHandler {
        boolean retryAfterFull(long firstFailureNanos);
    }

    /** For PoolFiles: the pool over formatted, opened metadata and its data store, which it now owns. */
    ThinPool(ThinMetadata md, DataStore data, Path metadataPath, String name, PoolOptions options) {
        this.data = data;
        this.name = name;
        this.blockSize = (long) md.dataBlockSectors() * Layout.SECTOR_SIZE;
        Committer[] late = new Committer[1]; // the guard's rollback reaches the committer made after it
        this.metadata = new MetadataGuard(md, name, options.readOnly() ? "the pool was opened read-only" : null,
                () -> late[0].forgetTransaction(), this::publish);
        this.committer = new Committer(gate, metadata, data, options.holePuncher(), blockSize, name,
                !options.readOnly() && options.zeroHoles());
        late[0] = committer;
        this.io = new IoContext(gate, new BlockLocks(), metadata, data, committer);
        this.copies = new CopySharing(io, blockSize);
        this.devices = new DeviceChanges(gate, metadata, bases, handles, committer);
        this.maps = new PoolMaps(metadata);
        this.transaction = new PoolTransaction(gate, metadata, data);
        this.space = new PoolSpace(gate, metadata, data, committer, metadataPath, name, blockSize, this::commit,
                this::publish);
        if (!options.readOnly()) {
            space.watch(md, options.lowWaterBlocks());
            committer.punchFreeSpace();
        }
    }

    /**
     * Formats a new pool on existing files. The metadata file's size (at most about 15.87 GiB is used) and
     * {@code config.dataSize()} / block size set the two spaces; the data file is extended (sparse) as needed.
     */
    public static ThinPool create(Path metadataPath, Path dataPath, PoolConfig config, PoolOptions options)
            throws IOException {
        return PoolFiles.create(metadataPath, dataPath, config, options);
    }

    /**
     * Formats a new pool on a metadata device and a data store (the pool owns and closes both). Without a metadata
     * path the metadata cannot be grown.
     */
    public static ThinPool create(BlockDevice metadataDevice, DataStore dataStore, Path metadataPath,
                                  PoolConfig config, PoolOptions options) throws IOException {
        return PoolFiles.create(metadataDevice, dataStore, metadataPath, config, options);
    }

    /** Opens an existing pool, validating its metadata. */
    public static ThinPool open(Path metadataPath, Path dataPath, PoolOptions options) throws IOException {
        return PoolFiles.open(metadataPath, dataPath, options);
    }

    /** Opens an existing pool on a metadata device and a data store (the pool owns and closes both). */
    public static ThinPool open(BlockDevice metadataDevice, DataStore dataStore, Path metadataPath,
                                PoolOptions options) throws IOException {
        return PoolFiles.open(metadataDevice, dataStore, metadataPath, options);
    }

    /** How the pool is named in messages. */
    public String name() {
        return name;
    }

    public void setEventListener(Consumer<PoolEvent> listener) {
        events = listener;
    }

    /** Registers what counts commits and waits for space (the front end's metrics); PoolObserver.NONE: nothing. */
    public void setObserver(PoolObserver observer) {
        this.observer = observer;
        committer.setObserver(observer);
    }

    public PoolObserver observer() {
        return observer;
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

    /** For ThinDevice#write: a write found the pool full and holds no lock; see {@link FullHandler}. */
    boolean retryAfterFull(long firstFailureNanos) {
        return fullHandler.retryAfterFull(firstFailureNanos);
    }

    /** Bytes per data block. */
    public long dataBlockSize() {
        return blockSize;
    }

    public SortedSet<Long> deviceIds() {
        return metadata.read(ThinMetadata::deviceIds);
    }

    public ThinDevice createThin(long id) {
        devices.createThin(id);
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
        devices.createSnapshots(pairs);
        List<ThinDevice> out = new ArrayList<>();
        for (long[] p : pairs) {
            out.add(device(p[0]));
        }
        return out;
    }

    /**
     * Deletes a device. Only taking it out of the top-level tree holds the gate (no I/O to it may be in flight);
     * its blocks are then freed in steps, each its own metadata operation, so I/O to every other device goes on
     * during the delete of a device with millions of mappings. A commit in between finishes the freeing first.
     */
    public void delete(long id) {
        devices.delete(id);
    }

    /**
     * Rolls device {@code id} back to {@code snapshotId} in place: in one metadata step it lets go of its own mapping
     * tree and shares the snapshot's, exactly as a new snapshot of it would, but keeps its id, so handles and exports
     * stay open and read the snapshot's bytes from now on. Under the gate: no I/O to any device is in flight. Blocks
     * only the old tree mapped are freed in steps by {@link #freeDeleted} (a caller holding its own lock calls it
     * after letting go), at the latest by the next commit.
     */
    public void rollback(long id, long snapshotId) {
        rollback(List.of(new long[]{id, snapshotId}));
    }

    /** Several rollbacks in one metadata step: each pair is {device id, snapshot id}; all or none. */
    public void rollback(List<long[]> pairs) {
        devices.rollback(pairs);
    }

    /** Which devices read their unmapped blocks from a base image, and how much of it each shows. */
    public DeviceBases bases() {
        return bases;
    }

    /**
     * Frees what deletes left to free, a step at a time. A caller that holds its own lock around a commit calls
     * this first, outside that lock (as with {@link #preFlush}).
     */
    public void freeDeleted() {
        committer.freeDeleted();
    }

    /** What writes of zeros do to the mappings from now on (ZeroWrites); KEEP (the engine writes what it is given) unless a front end sets it: the mount and serve daemons default to SKIP, import-diff uses UNMAP. */
    public void setZeroWrites(ZeroWrites z) {
        zeroWrites = z;
    }

    public ZeroWrites zeroWrites() {
        return zeroWrites;
    }

    /**
     * Whether writes that repeat a block recently read from another volume share that block instead of writing a new
     * one ({@link CopySharing}): off in the engine, on in the mount and serve daemons unless {@code --copies write}.
     * Pools with blocks over 1 MiB are never watched (no request carries such a block whole).
     */
    public void setCopySharing(boolean on) {
        copies.setEnabled(on);
    }

    public boolean copySharing() {
        return copies.enabled();
    }

    CopySharing copies() {
        return copies;
    }

    public ThinDevice device(long id) {
        if (!metadata.read(md -> md.exists(id))) {
            throw new NoSuchDeviceException(id);
        }
        return handles.computeIfAbsent(id, k -> new ThinDevice(this, io, k));
    }

    /**
     * copy_file_range between devices of this pool: aligned whole blocks are shared, the rest copied (see
     * {@link BlockCopier}). Lengths are the caller's to clip to the source's size.
     */
    public void copyRange(ThinDevice src, long srcOffset, ThinDevice dst, long dstOffset, long length) {
        new BlockCopier(io, blockSize).copy(src, srcOffset, dst, dstOffset, length);
    }

    /**
     * The metadata's transaction as dm-thin's pool status and messages show and change it: transaction ids, the
     * needs_check flag, the held metadata snapshot.
     */
    public PoolTransaction transaction() {
        return transaction;
    }

    /** What the metadata maps, read under the metadata lock: mappings, the last mapped block, device details. */
    public PoolMaps maps() {
        return maps;
    }

    /** Shared block locks taken so far: small in-place writes (BlockChange#changeInPlaceShared); for tests. */
    long sharedBlockLocksTaken() {
        return io.blockLocks().sharedTaken();
    }

    /**
     * Makes data written in place durable (flushes the data file) without a metadata commit: enough for writes
     * that mapped no new block. Use {@link #commit} when mappings changed.
     */
    public void flushData() {
        data.flush();
    }

    /** A flush running on a helper thread; {@link #await} waits for it and throws what it threw. */
    public interface PendingFlush {
        void await();
    }

    /**
     * {@link #flushData} on a helper thread, so the caller can make something else durable meanwhile (an fsync's
     * times log): the two flushes cost the longer of them, not their sum.
     */
    public PendingFlush startFlushData() {
        return CommitFlushes.start(data::flush)::await;
    }

    /** Signals writes to the data store (for write-behind), or null when the store gives none. */
    public WriteSignal dataWrites() {
        return data.writeSignal();
    }

    /**
     * What a commit does before it takes the gate (see Committer#preFlush). A caller that holds its own lock around
     * {@link #commit} calls this first, outside that lock.
     */
    public void preFlush() {
        committer.preFlush();
    }

    /** Makes every acknowledged write durable: data file flushed, then metadata committed (superblock last). */
    public void commit() {
        if (metadata.isReadOnly()) {
            return;
        }
        committer.preFlush();
        committer.commitPreFlushed(null);
    }

    /**
     * The rest of {@link #commit} for a caller that ran {@link #preFlush} itself, outside its own lock: the flush
     * under the gate covers only what arrived since, and no further pre-flush pass runs under the caller's lock.
     */
    public void commitPreFlushed() {
        committer.commitPreFlushed(null);
    }

    /**
     * {@link #commitPreFlushed()}, with {@code alongside} made durable before the superblock, side by side with the
     * data and metadata flushes (the catalog of the next transaction). If it throws, nothing is committed and the
     * pool turns read-only.
     */
    public void commitPreFlushed(Runnable alongside) {
        committer.commitPreFlushed(alongside);
    }

    public PoolUsage usage() {
        return space.usage();
    }

    /** Grows the data space to {@code newDataBlocks} (the data file is extended as needed); committed. */
    public void resizeData(long newDataBlocks) {
        space.resizeData(newDataBlocks);
    }

    /** Grows the metadata space to {@code newMetadataBlocks} 4 KiB blocks (the file grows as needed); committed. */
    public void resizeMetadata(long newMetadataBlocks) throws IOException {
        space.resizeMetadata(newMetadataBlocks);
    }

    public boolean isReadOnly() {
        return metadata.isReadOnly();
    }

    /** Why the pool refuses changes, or null. */
    public String readOnlyReason() {
        return metadata.readOnlyReason();
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

    /** Blocks known to read as zeros (for tests). */
    public long knownZeroBlocks() {
        return committer.knownZeroBlocks();
    }
}
