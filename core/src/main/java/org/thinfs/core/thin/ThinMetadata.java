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
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.sm.disk.DiskSpaceMap;

import java.io.Closeable;
import java.io.IOException;
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
 * <p>The state of one transaction and the order of its commit live in {@link MetadataTransaction}. Every change goes
 * into blocks free in the committed state; {@link #commit()} publishes them by writing the superblock last. A failure
 * in the middle of an operation leaves the in-memory state unusable: call {@link #abort()} to return to the last
 * commit.
 *
 * <p>Not thread-safe: {@code ThinPool} serializes access under its metadata lock.
 */
public final class ThinMetadata implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ThinMetadata.class);

    private final MetadataTransaction tx;
    private final BlockSharing sharing = new BlockSharing(this);
    private final MetadataSpaces spaces;

    private ThinMetadata(MetadataTransaction tx) {
        this.tx = tx;
        this.spaces = new MetadataSpaces(tx);
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
        ThinMetadata md = new ThinMetadata(MetadataTransaction.format(bm, metaBlocks, nrDataBlocks, dataBlockSectors,
                nodeEntries));
        md.commit();
        LOG.info("formatted metadata on {}: {} metadata blocks, {} data blocks of {} sectors", device, metaBlocks,
                nrDataBlocks, dataBlockSectors);
        return md;
    }

    /** Opens formatted metadata, validating the superblock as the kernel does. */
    public static ThinMetadata open(BlockDevice device, boolean writable, int cacheBlocks) {
        BlockManager bm = new BlockManager(device, cacheBlocks, writable);
        return new ThinMetadata(MetadataTransaction.open(bm, writable, BTree.FULL_NODES));
    }

    /**
     * Frees up to {@code budget} nodes of deleted device trees; true when none are left. A caller that deletes a
     * large device calls this in a loop, one metadata operation per call, so other devices' I/O runs in between.
     */
    public boolean freePending(int budget) {
        if (!tx.mappings.hasPendingFrees()) {
            return true;
        }
        requireWritable();
        tx.changed = true;
        return tx.mappings.freePending(budget);
    }

    // ---------------------------------------------------------------- devices

    public SortedSet<Long> deviceIds() {
        return tx.mappings.deviceIds();
    }

    public boolean exists(long id) {
        return tx.mappings.exists(id);
    }

    public DeviceDetails details(long id) {
        DeviceDetails d = tx.details.get(id);
        if (d != null) {
            return d;
        }
        if (exists(id)) {
            throw new CorruptMetadataException(tx.details.root(), "device " + id
                    + " is in the mapping tree but has no details");
        }
        throw new NoSuchDeviceException(id);
    }

    public void createThin(long id) {
        checkNewDevice(id);
        tx.mappings.addEmptyDevice(id);
        putDetails(id, new DeviceDetails(0, tx.state.transactionId(), tx.state.time(), tx.state.time()));
    }

    /** An O(1) snapshot: {@code id} shares {@code origin}'s tree; the pool's time advances by one. */
    public void createSnapshot(long id, long origin) {
        checkNewDevice(id);
        DeviceDetails od = details(origin);
        tx.mappings.addSharedDevice(id, origin);
        tx.state = tx.state.nextTime();
        putDetails(origin, od.withSnapshottedTime(tx.state.time()));
        int now = tx.state.time();
        putDetails(id, new DeviceDetails(od.mappedBlocks(), tx.state.transactionId(), now, now));
    }

    /** Deletes a device; its blocks are freed by {@link #freePending} (and at the latest by the next commit). */
    public void delete(long id) {
        requireWritable();
        if (!exists(id)) {
            throw new NoSuchDeviceException(id);
        }
        tx.mappings.removeDevice(id);
        tx.details.remove(id);
        tx.changed = true;
    }

    /** For restoring a dump into freshly formatted metadata; see {@link RestoreSink}. */
    public RestoreSink restoreSink() {
        requireWritable();
        return new MetadataRestore(this);
    }

    // ---------------------------------------------------------------- mappings

    /** The block_time value mapped at {@code vblock}, or -1. */
    public long lookup(long id, long vblock) {
        return tx.mappings.lookup(id, vblock);
    }

    /** The highest mapped virtual block of device {@code id}, or -1 when it maps none. */
    public long lastMappedBlock(long id) {
        return tx.mappings.lastMappedBlock(id);
    }

    /** Receives mappings in virtual block order. */
    @FunctionalInterface
    public interface MappingVisitor {
        void mapping(long vblock, long dataBlock, int time);
    }

    /** Visits every mapping of device {@code id} with virtual block in [from, to). */
    public void lookupRange(long id, long from, long to, MappingVisitor visitor) {
        tx.mappings.lookupRange(id, from, to, visitor);
    }

    /**
     * Up to {@code max} mapped virtual blocks of device {@code id} in [from, to), ascending. The walk stops after
     * the {@code max}-th, so the cost follows what is mapped, never the width of the range.
     */
    public List<Long> mappedBlocks(long id, long from, long to, int max) {
        return tx.mappings.mappedBlocks(id, from, to, max);
    }

    /**
     * Up to {@code max} mappings of device {@code id} in [from, to), ascending, as pairs: virtual block at 2i, data
     * block at 2i+1. Like {@link #mappedBlocks}, the walk stops after the last one it returns.
     */
    public long[] mappings(long id, long from, long to, int max) {
        return tx.mappings.mappings(id, from, to, max);
    }

    /**
     * Maps {@code vblock} to {@code dataBlock} stamped with the current time. The data block must already hold a
     * count for this mapping (freshly allocated); a previous, different mapping releases its block.
     *
     * @return true if the virtual block was unmapped before
     */
    public boolean insert(long id, long vblock, long dataBlock) {
        requireWritable();
        return insertStamped(id, vblock, dataBlock, tx.state.time());
    }

    /** Block sharing between devices outside snapshots (copy_file_range, copies by ordinary tools). */
    public BlockSharing sharing() {
        requireWritable();
        return sharing;
    }

    /** Advances the pool's time by one (a snapshot, or sharing that must count as one); returns the new time. */
    int advanceTime() {
        tx.state = tx.state.nextTime();
        return tx.state.time();
    }

    /** Writes a mapping with an explicit stamp; the caller keeps the data block's count right. */
    boolean insertStamped(long id, long vblock, long dataBlock, int time) {
        boolean added = tx.mappings.insert(id, vblock, BlockTime.pack(dataBlock, time));
        if (added) {
            DeviceDetails d = details(id);
            tx.details.put(id, d.withMappedBlocks(d.mappedBlocks() + 1));
        }
        tx.changed = true;
        return added;
    }

    /** Unmaps {@code vblock}, releasing its data block; returns whether it was mapped. */
    public boolean remove(long id, long vblock) {
        requireWritable();
        if (!tx.mappings.remove(id, vblock)) {
            return false;
        }
        DeviceDetails d = details(id);
        tx.details.put(id, d.withMappedBlocks(d.mappedBlocks() - 1));
        tx.changed = true;
        return true;
    }

    // ---------------------------------------------------------------- pool state

    public int time() {
        return tx.state.time();
    }

    public long transactionId() {
        return tx.state.transactionId();
    }

    /** As the kernel's set_transaction_id message: refused unless {@code expectedOld} is the current id. */
    public void setTransactionId(long expectedOld, long newId) {
        requireWritable();
        if (expectedOld != tx.state.transactionId()) {
            throw new ChangeRefusedException("transaction id is " + tx.state.transactionId() + ", not "
                    + expectedOld);
        }
        tx.state = tx.state.withTransactionId(newId);
        tx.changed = true;
    }

    public int dataBlockSectors() {
        return tx.committed.dataBlockSize();
    }

    public DiskSpaceMap dataSpace() {
        return tx.dataSpace;
    }

    public DiskSpaceMap metadataSpace() {
        return tx.metadataSpace;
    }

    public Superblock committedSuperblock() {
        return tx.committed;
    }

    public long heldRoot() {
        return tx.state.heldRoot();
    }

    public boolean isWritable() {
        return tx.writable;
    }

    public boolean hasUncommittedChanges() {
        return tx.changed;
    }

    /** Growing the data and metadata space maps. */
    public MetadataSpaces spaces() {
        return spaces;
    }

    // ---------------------------------------------------------------- metadata snapshot

    /** Takes the metadata snapshot that thin_dump -m reads (FORMAT.md 12). Commits first. */
    public void reserveMetadataSnapshot() {
        requireWritable();
        MetadataSnapshot.take(tx, this::commit);
    }

    /** Drops the metadata snapshot and everything only it referenced. */
    public void releaseMetadataSnapshot() {
        requireWritable();
        MetadataSnapshot.drop(tx);
    }

    // ---------------------------------------------------------------- commit

    /**
     * Publishes the current state, superblock last ({@link MetadataTransaction#commit} says in what order). The caller
     * must have made the data device durable first.
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
        tx.commit(beforeSuperblock);
    }

    /** Forgets every uncommitted change and reloads the last committed state from disk. */
    public void abort() {
        tx.abort();
        sharing.forget();
    }

    /** Releases cache blocks above the limit; call between operations. */
    public void trimCache() {
        tx.bm.trim();
    }

    /** Sets NEEDS_CHECK in the superblock at once, outside a commit, as the kernel does after a metadata failure. */
    public void setNeedsCheck() {
        tx.setNeedsCheck();
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
        tx.bm.close();
    }

    // ---------------------------------------------------------------- for MetadataRestore

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
        tx.details.put(id, d);
        tx.changed = true;
    }

    /** The transaction itself, for restoring a dump's header (MetadataRestore). */
    MetadataTransaction transaction() {
        return tx;
    }

    private void requireWritable() {
        requireWritable(tx);
    }

    static void requireWritable(MetadataTransaction tx) {
        if (!tx.writable) {
            throw new MetadataReadOnlyException("the metadata was opened read-only");
        }
    }
}
