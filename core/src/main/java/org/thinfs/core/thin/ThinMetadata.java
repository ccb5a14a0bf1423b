package org.thinfs.core.thin;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.ChangeRefusedException;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.DeviceExistsException;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.btree.BTree;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.sm.disk.DiskSpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.io.Closeable;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.SortedSet;

/**
 * The thin-pool metadata of FORMAT.md: superblock, both space maps, the two-level mapping tree and the device
 * details tree, with the operations dm-thin-metadata.c offers.
 *
 * <pre>
 *  block 0 superblock ─┬─ metadata space map (index block, bitmaps, ref-count tree)
 *                      ├─ data space map     (index btree, bitmaps, ref-count tree)   {@link DiskSpaceMap}
 *                      ├─ device details     dev_id → details                          {@link DetailsTree}
 *                      ├─ mapping top level  dev_id → vblock → (data block, time)      {@link MappingTree}
 *                      └─ held_root          optional superblock copy                  {@link MetadataSnapshot}
 * </pre>
 *
 * <p>State of one transaction: the two trees (each holding its working root), both space maps, and
 * {@link #state} (time, transaction id, held root, flags). {@link #committed} is the superblock last written; it
 * is immutable and swapped only by a commit, so an abort rebuilds everything from it.
 *
 * <p>Every change goes into blocks free in the committed state; {@link #commit()} publishes them by writing the
 * superblock last. A failure in the middle of an operation leaves the in-memory state unusable: call
 * {@link #abort()} to return to the last commit.
 *
 * <p>Not thread-safe: {@code ThinPool} serializes access under its metadata lock.
 */
public final class ThinMetadata implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ThinMetadata.class);

    private final BlockManager bm;
    private final boolean writable;
    /** Most entries of a new mapping or details tree node: BTree.FULL_NODES, or small for tests of deep trees. */
    private final int nodeEntries;
    private Superblock committed;
    private DiskSpaceMap metadataSpace;
    private DiskSpaceMap dataSpace;
    private TransactionManager tm;
    private MappingTree mappings;
    private DetailsTree details;
    private TransactionState state;
    private boolean changed;
    private final BlockSharing sharing = new BlockSharing(this);

    private ThinMetadata(BlockManager bm, boolean writable, int nodeEntries) {
        this.bm = bm;
        this.writable = writable;
        this.nodeEntries = nodeEntries;
    }

    // ---------------------------------------------------------------- format and open

    /**
     * Formats a new pool on {@code device}: every block of the device (up to the format's limit) becomes metadata
     * space. The result is committed before this returns.
     */
    public static ThinMetadata format(BlockDevice device, int dataBlockSectors, long nrDataBlocks,
                                      int cacheBlocks) {
        return format(device, dataBlockSectors, nrDataBlocks, cacheBlocks, BTree.FULL_NODES);
    }

    /**
     * {@link #format} whose mapping and details trees get new nodes of at most {@code nodeEntries} entries (a
     * multiple of 3), for as long as this object lives: for tests that need deep trees (internal splits and
     * rebalancing) in a pool the real thin_check then reads. Every reader takes a node's capacity from the node.
     */
    public static ThinMetadata format(BlockDevice device, int dataBlockSectors, long nrDataBlocks,
                                      int cacheBlocks, int nodeEntries) {
        if (!Layout.isValidDataBlockSectors(dataBlockSectors)) {
            throw new IllegalArgumentException("data block size must be a multiple of 64 KiB from 64 KiB to 1 GiB,"
                    + " not " + dataBlockSectors + " sectors");
        }
        BlockManager bm = new BlockManager(device, cacheBlocks, true);
        long metaBlocks = Math.min(bm.nrBlocks(), Layout.MAX_METADATA_BLOCKS);
        ThinMetadata md = new ThinMetadata(bm, true, nodeEntries);
        md.use(MetadataStructures.format(bm, metaBlocks, nrDataBlocks, nodeEntries));
        md.state = new TransactionState(0, 0, 0, 0);
        md.committed = new Superblock(0, 0, new byte[16], Layout.MAGIC, Layout.VERSION, 0, 0, 0,
                SpaceMapRoot.NONE, SpaceMapRoot.NONE, 0, 0, dataBlockSectors, Layout.METADATA_BLOCK_SECTORS,
                metaBlocks, 0, 0, 0);
        md.changed = true;
        md.commit();
        LOG.info("formatted metadata on {}: {} metadata blocks, {} data blocks of {} sectors", device, metaBlocks,
                nrDataBlocks, dataBlockSectors);
        return md;
    }

    /** Opens formatted metadata, validating the superblock as the kernel does. */
    public static ThinMetadata open(BlockDevice device, boolean writable, int cacheBlocks) {
        BlockManager bm = new BlockManager(device, cacheBlocks, writable);
        ThinMetadata md = new ThinMetadata(bm, writable, BTree.FULL_NODES);
        md.load(SuperblockIO.read(bm, writable));
        return md;
    }

    /** Rebuilds every piece of transaction state from a committed superblock. */
    private void load(Superblock sb) {
        use(MetadataStructures.open(bm, sb, nodeEntries));
        committed = sb;
        state = TransactionState.of(sb);
        changed = false;
        sharing.forget();
    }

    private void use(MetadataStructures s) {
        tm = s.tm();
        metadataSpace = s.metadataSpace();
        dataSpace = s.dataSpace();
        mappings = s.mappings();
        details = s.details();
    }

    /**
     * Frees up to {@code budget} nodes of deleted device trees; true when none are left. A caller that deletes a
     * large device calls this in a loop, one metadata operation per call, so other devices' I/O runs in between.
     */
    public boolean freePending(int budget) {
        if (!mappings.hasPendingFrees()) {
            return true;
        }
        requireWritable();
        changed = true;
        return mappings.freePending(budget);
    }

    // ---------------------------------------------------------------- devices

    public SortedSet<Long> deviceIds() {
        return mappings.deviceIds();
    }

    public boolean exists(long id) {
        return mappings.exists(id);
    }

    public DeviceDetails details(long id) {
        DeviceDetails d = details.get(id);
        if (d != null) {
            return d;
        }
        if (exists(id)) {
            throw new CorruptMetadataException(details.root(), "device " + id
                    + " is in the mapping tree but has no details");
        }
        throw new NoSuchDeviceException(id);
    }

    public void createThin(long id) {
        checkNewDevice(id);
        mappings.addEmptyDevice(id);
        putDetails(id, new DeviceDetails(0, state.transactionId(), state.time(), state.time()));
    }

    /** An O(1) snapshot: {@code id} shares {@code origin}'s tree; the pool's time advances by one. */
    public void createSnapshot(long id, long origin) {
        checkNewDevice(id);
        DeviceDetails od = details(origin);
        mappings.addSharedDevice(id, origin);
        state = state.nextTime();
        putDetails(origin, od.withSnapshottedTime(state.time()));
        putDetails(id, new DeviceDetails(od.mappedBlocks(), state.transactionId(), state.time(), state.time()));
    }

    /** Deletes a device; its blocks are freed by {@link #freePending} (and at the latest by the next commit). */
    public void delete(long id) {
        requireWritable();
        if (!exists(id)) {
            throw new NoSuchDeviceException(id);
        }
        mappings.removeDevice(id);
        details.remove(id);
        changed = true;
    }

    /** For restoring a dump into freshly formatted metadata; see {@link RestoreSink}. */
    public RestoreSink restoreSink() {
        requireWritable();
        return new MetadataRestore(this);
    }

    // ---------------------------------------------------------------- mappings

    /** The block_time value mapped at {@code vblock}, or -1. */
    public long lookup(long id, long vblock) {
        return mappings.lookup(id, vblock);
    }

    /** The highest mapped virtual block of device {@code id}, or -1 when it maps none. */
    public long lastMappedBlock(long id) {
        return mappings.lastMappedBlock(id);
    }

    /** Receives mappings in virtual block order. */
    @FunctionalInterface
    public interface MappingVisitor {
        void mapping(long vblock, long dataBlock, int time);
    }

    /** Visits every mapping of device {@code id} with virtual block in [from, to). */
    public void lookupRange(long id, long from, long to, MappingVisitor visitor) {
        mappings.lookupRange(id, from, to, visitor);
    }

    /**
     * Up to {@code max} mapped virtual blocks of device {@code id} in [from, to), ascending. The walk stops after
     * the {@code max}-th, so the cost follows what is mapped, never the width of the range.
     */
    public List<Long> mappedBlocks(long id, long from, long to, int max) {
        return mappings.mappedBlocks(id, from, to, max);
    }

    /**
     * Up to {@code max} mappings of device {@code id} in [from, to), ascending, as pairs: virtual block at 2i, data
     * block at 2i+1. Like {@link #mappedBlocks}, the walk stops after the last one it returns.
     */
    public long[] mappings(long id, long from, long to, int max) {
        return mappings.mappings(id, from, to, max);
    }

    /**
     * Maps {@code vblock} to {@code dataBlock} stamped with the current time. The data block must already hold a
     * count for this mapping (freshly allocated); a previous, different mapping releases its block.
     *
     * @return true if the virtual block was unmapped before
     */
    public boolean insert(long id, long vblock, long dataBlock) {
        requireWritable();
        boolean added = mappings.insert(id, vblock, BlockTime.pack(dataBlock, state.time()));
        if (added) {
            DeviceDetails d = details(id);
            details.put(id, d.withMappedBlocks(d.mappedBlocks() + 1));
        }
        changed = true;
        return added;
    }

    /** Block sharing between devices outside snapshots (copy_file_range, copies by ordinary tools). */
    public BlockSharing sharing() {
        requireWritable();
        return sharing;
    }

    /** Advances the pool's time by one (a snapshot, or sharing that must count as one); returns the new time. */
    int advanceTime() {
        state = state.nextTime();
        return state.time();
    }

    /** Writes a mapping with an explicit stamp; the caller keeps the data block's count right. */
    boolean insertStamped(long id, long vblock, long dataBlock, int time) {
        boolean added = mappings.insert(id, vblock, BlockTime.pack(dataBlock, time));
        if (added) {
            DeviceDetails d = details(id);
            details.put(id, d.withMappedBlocks(d.mappedBlocks() + 1));
        }
        changed = true;
        return added;
    }

    /** Unmaps {@code vblock}, releasing its data block; returns whether it was mapped. */
    public boolean remove(long id, long vblock) {
        requireWritable();
        if (!mappings.remove(id, vblock)) {
            return false;
        }
        DeviceDetails d = details(id);
        details.put(id, d.withMappedBlocks(d.mappedBlocks() - 1));
        changed = true;
        return true;
    }

    // ---------------------------------------------------------------- pool state

    public int time() {
        return state.time();
    }

    public long transactionId() {
        return state.transactionId();
    }

    /** As the kernel's set_transaction_id message: refused unless {@code expectedOld} is the current id. */
    public void setTransactionId(long expectedOld, long newId) {
        requireWritable();
        if (expectedOld != state.transactionId()) {
            throw new ChangeRefusedException("transaction id is " + state.transactionId() + ", not " + expectedOld);
        }
        state = state.withTransactionId(newId);
        changed = true;
    }

    public int dataBlockSectors() {
        return committed.dataBlockSize();
    }

    public DiskSpaceMap dataSpace() {
        return dataSpace;
    }

    public DiskSpaceMap metadataSpace() {
        return metadataSpace;
    }

    public Superblock committedSuperblock() {
        return committed;
    }

    public long heldRoot() {
        return state.heldRoot();
    }

    public boolean isWritable() {
        return writable;
    }

    public boolean hasUncommittedChanges() {
        return changed;
    }

    /** Grows the data space map to {@code nrBlocks}; shrinking is refused. */
    public void resizeData(long nrBlocks) {
        requireWritable();
        long cur = dataSpace.nrBlocks();
        if (nrBlocks < cur) {
            throw new ChangeRefusedException("cannot shrink the data space from " + cur + " to " + nrBlocks
                    + " blocks");
        }
        if (nrBlocks > Layout.MAX_DATA_BLOCK + 1) {
            throw new IllegalArgumentException("at most 2^40 data blocks");
        }
        dataSpace.extend(nrBlocks - cur);
        changed = true;
    }

    /** Grows the metadata space map to {@code nrBlocks} (the device must already be that large). */
    public void resizeMetadata(long nrBlocks) {
        requireWritable();
        long cur = metadataSpace.nrBlocks();
        long dev = bm.refreshSize();
        if (nrBlocks < cur) {
            throw new ChangeRefusedException("cannot shrink the metadata space from " + cur + " to " + nrBlocks
                    + " blocks");
        }
        if (nrBlocks > dev) {
            throw new ChangeRefusedException("the metadata device holds only " + dev + " blocks, not " + nrBlocks);
        }
        metadataSpace.extend(Math.min(nrBlocks, Layout.MAX_METADATA_BLOCKS) - cur);
        changed = true;
    }

    // ---------------------------------------------------------------- metadata snapshot

    /** Takes the metadata snapshot that thin_dump -m reads (FORMAT.md 12). Commits first. */
    public void reserveMetadataSnapshot() {
        requireWritable();
        if (state.heldRoot() != 0) {
            throw new ChangeRefusedException("a metadata snapshot is already held (block " + state.heldRoot() + ")");
        }
        changed = true;
        commit();
        state = state.withHeldRoot(MetadataSnapshot.reserve(tm, committed));
        // The committed roots are shared with the snapshot now: the next change must shadow from the top again.
        mappings.endTransaction();
        changed = true;
    }

    /** Drops the metadata snapshot and everything only it referenced. */
    public void releaseMetadataSnapshot() {
        requireWritable();
        if (state.heldRoot() == 0) {
            throw new ChangeRefusedException("no metadata snapshot is held");
        }
        MetadataSnapshot.release(tm, state.heldRoot(), mappings, details);
        state = state.withHeldRoot(0);
        changed = true;
    }

    // ---------------------------------------------------------------- commit

    /**
     * Publishes the current state: details, then the data space map, then the metadata space map, then every
     * dirty block is written and flushed, then the superblock is written and flushed. The caller must have made
     * the data device durable first.
     */
    public void commit() {
        commit(() -> { });
    }

    /**
     * {@link #commit()}, with {@code beforeSuperblock} run after every other block is written and flushed and before
     * the superblock is written: the caller's chance to finish what must be durable before the superblock points at
     * the new state (the data flush, the catalog), overlapped with this commit's own writes. If it throws, the
     * superblock is not written and the exception propagates (the caller aborts the transaction).
     */
    public void commit(Runnable beforeSuperblock) {
        requireWritable();
        freePending(Integer.MAX_VALUE);
        if (!changed) {
            return;
        }
        // A failure here leaves the previous transaction on disk (its superblock is not overwritten until the last
        // step); the caller logs it once and aborts (ThinPool's MetadataGuard).
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
    public void abort() {
        bm.discardAll();
        load(SuperblockIO.read(bm, writable));
    }

    /** Releases cache blocks above the limit; call between operations. */
    public void trimCache() {
        bm.trim();
    }

    /** Sets NEEDS_CHECK in the superblock at once, outside a commit, as the kernel does after a metadata failure. */
    public void setNeedsCheck() {
        Superblock sb = committed.withFlags(committed.flags() | Layout.FLAG_NEEDS_CHECK);
        SuperblockIO.write(bm, sb, Layout.SUPERBLOCK_LOCATION);
        committed = sb;
    }

    /** Clears NEEDS_CHECK (after a clean check), leaving everything else of the superblock as it is. */
    public static void clearNeedsCheck(BlockDevice device) {
        BlockManager bm = new BlockManager(device, 64, true);
        Superblock sb = SuperblockIO.read(bm, true, true);
        if (sb.needsCheck()) {
            SuperblockIO.write(bm, sb.withFlags(sb.flags() & ~Layout.FLAG_NEEDS_CHECK), Layout.SUPERBLOCK_LOCATION);
        }
    }

    @Override
    public void close() throws IOException {
        bm.close();
    }

    // ---------------------------------------------------------------- for MetadataRestore

    MappingTree mappingTree() {
        return mappings;
    }

    void checkNewDevice(long id) {
        requireWritable();
        if (id < 0 || id > Layout.MAX_THIN_DEVICE_ID) {
            throw new IllegalArgumentException("thin device id " + id + " is outside 0.." + Layout.MAX_THIN_DEVICE_ID);
        }
        if (exists(id)) {
            throw new DeviceExistsException(id);
        }
    }

    void putDetails(long id, DeviceDetails d) {
        details.put(id, d);
        changed = true;
    }

    /** A dump's header: uuid (first 16 bytes) and version now, the rest with the next commit. */
    void adoptHeader(byte[] uuid, int version, TransactionState restored) {
        Superblock c = committed;
        committed = new Superblock(c.flags(), c.blocknr(), Arrays.copyOf(uuid, 16), c.magic(), version,
                c.time(), c.transactionId(), c.heldRoot(), c.dataSpaceMap(), c.metadataSpaceMap(),
                c.dataMappingRoot(), c.deviceDetailsRoot(), c.dataBlockSize(), c.metadataBlockSize(),
                c.metadataNrBlocks(), c.compatFlags(), c.compatRoFlags(), c.incompatFlags());
        state = restored;
        changed = true;
    }

    private void requireWritable() {
        if (!writable) {
            throw new MetadataReadOnlyException("the metadata was opened read-only");
        }
    }
}
