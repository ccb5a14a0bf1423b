package org.thinfs.core.thin;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.DeviceExistsException;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.btree.BTree;
import org.thinfs.core.btree.ValueType;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.Block;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.io.Validators;
import org.thinfs.core.sm.disk.DiskSpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The thin-pool metadata of FORMAT.md: superblock, both space maps, the two-level mapping tree and the device
 * details tree, with the operations dm-thin-metadata.c offers.
 *
 * <pre>
 *  block 0 superblock ─┬─ metadata space map (index block, bitmaps, ref-count tree)
 *                      ├─ data space map     (index btree, bitmaps, ref-count tree)
 *                      ├─ device details     dev_id → {mapped_blocks, transaction_id, creation_time, snap_time}
 *                      ├─ mapping top level  dev_id → root of that device's tree: vblock → (data block, time)
 *                      └─ held_root          optional superblock copy: the metadata snapshot
 * </pre>
 *
 * <p>Every change goes into blocks free in the committed state; {@link #commit()} publishes them by writing the
 * superblock last. A failure in the middle of an operation leaves the in-memory state unusable: call
 * {@link #abort()} to return to the last commit.
 *
 * <p>Not thread-safe: {@code ThinPool} serializes access under its metadata lock.
 */
public final class ThinMetadata implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ThinMetadata.class);
    private static final int DETAILS_SIZE = DeviceDetails.SIZE;

    private final BlockManager bm;
    private final boolean writable;
    private Superblock committed;
    private DiskSpaceMap metadataSpace;
    private DiskSpaceMap dataSpace;
    private TransactionManager tm;
    private BTree deviceTree;
    private BTree topTree;
    private BTree detailsTree;
    private DetailsCache details;
    private long mappingRoot;
    private long detailsRoot;
    private int time;
    private long transactionId;
    private long heldRoot;
    private int flags;
    /** Devices whose top-level path was shadowed in this transaction (see {@link #prepareDevice}). */
    private final Set<Long> topPathShadowed = new HashSet<>();
    private boolean changed;

    private ThinMetadata(BlockManager bm, boolean writable) {
        this.bm = bm;
        this.writable = writable;
    }

    // ---------------------------------------------------------------- format and open

    /**
     * Formats a new pool on {@code device}: every block of the device (up to the format's limit) becomes metadata
     * space. The result is committed before this returns.
     */
    public static ThinMetadata format(BlockDevice device, int dataBlockSectors, long nrDataBlocks,
                                      int cacheBlocks) {
        if (!Layout.isValidDataBlockSectors(dataBlockSectors)) {
            throw new IllegalArgumentException("data block size must be a multiple of 64 KiB from 64 KiB to 1 GiB,"
                    + " not " + dataBlockSectors + " sectors");
        }
        BlockManager bm = new BlockManager(device, cacheBlocks, true);
        long metaBlocks = Math.min(bm.nrBlocks(), Layout.MAX_METADATA_BLOCKS);
        ThinMetadata md = new ThinMetadata(bm, true);
        md.metadataSpace = DiskSpaceMap.newMetadata(metaBlocks);
        md.tm = new TransactionManager(bm, md.metadataSpace);
        md.metadataSpace.attachNew(md.tm);
        md.dataSpace = DiskSpaceMap.formatData(md.tm, nrDataBlocks);
        md.buildTrees();
        md.detailsRoot = md.detailsTree.create();
        md.mappingRoot = md.topTree.create();
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
        ThinMetadata md = new ThinMetadata(bm, writable);
        md.load(SuperblockIO.read(bm, writable));
        return md;
    }

    /** Whether the device's block 0 is all zeros (the kernel formats such a device when it creates the pool). */
    public static boolean isUnformatted(BlockDevice device) {
        BlockManager bm = new BlockManager(device, 64, false);
        return bm.nrBlocks() == 0 || SuperblockIO.isUnformatted(bm);
    }

    private void load(Superblock sb) {
        committed = sb;
        metadataSpace = DiskSpaceMap.existingMetadata(sb.metadataSpaceMap(), bm.nrBlocks());
        tm = new TransactionManager(bm, metadataSpace);
        metadataSpace.attachExisting(tm);
        dataSpace = DiskSpaceMap.openData(tm, sb.dataSpaceMap());
        buildTrees();
        mappingRoot = sb.dataMappingRoot();
        detailsRoot = sb.deviceDetailsRoot();
        time = sb.time();
        transactionId = sb.transactionId();
        heldRoot = sb.heldRoot();
        flags = sb.flags();
        topPathShadowed.clear();
        pendingFrees.clear();
        changed = false;
        // Both trees must at least be readable roots.
        topTree.contains(mappingRoot, 0);
        detailsTree.contains(detailsRoot, 0);
    }

    /**
     * Device-tree nodes whose reference a delete still has to drop ({@link #freePending}); emptied before every
     * commit, so no committed state ever holds a block that nothing references, and cleared by a rollback.
     */
    private final java.util.ArrayDeque<Long> pendingFrees = new java.util.ArrayDeque<>();

    /**
     * Frees up to {@code budget} nodes of deleted device trees; true when none are left. A caller that deletes a
     * large device calls this in a loop, one metadata operation per call, so other devices' I/O runs in between.
     */
    public boolean freePending(int budget) {
        if (pendingFrees.isEmpty()) {
            return true;
        }
        requireWritable();
        changed = true;
        return deviceTree.deleteSteps(pendingFrees, budget);
    }

    private void buildTrees() {
        deviceTree = new BTree(tm, MappingValues.blockTime(dataSpace));
        // A dropped device tree is freed in steps (freePending), not inside the top-level removal.
        topTree = new BTree(tm, MappingValues.subtree(tm, pendingFrees::push));
        detailsTree = new BTree(tm, ValueType.plain(DETAILS_SIZE));
        details = new DetailsCache();
    }

    // ---------------------------------------------------------------- devices

    public SortedSet<Long> deviceIds() {
        SortedSet<Long> ids = new TreeSet<>();
        topTree.walk(mappingRoot, (leaf, i) -> ids.add(leaf.key(i)));
        return ids;
    }

    public boolean exists(long id) {
        return topTree.contains(mappingRoot, id);
    }

    public DeviceDetails details(long id) {
        return details.get(id);
    }

    public void createThin(long id) {
        requireWritable();
        checkNewId(id);
        long root = deviceTree.create();
        mappingRoot = topTree.insertLong(mappingRoot, id, root).root();
        details.put(id, new DeviceDetails(0, transactionId, time, time));
        changed = true;
    }

    /** An O(1) snapshot: {@code id} shares {@code origin}'s tree; the pool's time advances by one. */
    public void createSnapshot(long id, long origin) {
        requireWritable();
        checkNewId(id);
        long originRoot = deviceRoot(origin);
        DeviceDetails od = details.get(origin);
        deviceTree.share(originRoot);
        mappingRoot = topTree.insertLong(mappingRoot, id, originRoot).root();
        time++;
        details.put(origin, od.withSnapshottedTime(time));
        details.put(id, new DeviceDetails(od.mappedBlocks(), transactionId, time, time));
        changed = true;
    }

    /** Deletes a device, freeing every metadata and data block nothing else shares. */
    public void delete(long id) {
        requireWritable();
        if (!exists(id)) {
            throw new NoSuchDeviceException(id);
        }
        mappingRoot = topTree.remove(mappingRoot, id).root();
        detailsRoot = detailsTree.remove(detailsRoot, id).root();
        details.forget(id);
        topPathShadowed.remove(id);
        changed = true;
    }

    private void checkNewId(long id) {
        if (id < 0 || id > Layout.MAX_THIN_DEVICE_ID) {
            throw new IllegalArgumentException("thin device id " + id + " is outside 0.." + Layout.MAX_THIN_DEVICE_ID);
        }
        if (exists(id)) {
            throw new DeviceExistsException(id);
        }
    }

    private long deviceRoot(long id) {
        long root = topTree.lookupLong(mappingRoot, id, -1);
        if (root == -1) {
            throw new NoSuchDeviceException(id);
        }
        return root;
    }

    // ---------------------------------------------------------------- restore

    /**
     * For restoring a dump: takes the superblock fields a dump carries. The uuid is stored as its first 16 bytes;
     * flags, time and transaction id are committed with the next commit.
     */
    public void restoreHeader(byte[] uuid, int version, int newFlags, int newTime, long newTransactionId) {
        requireWritable();
        Superblock c = committed;
        committed = new Superblock(c.flags(), c.blocknr(), java.util.Arrays.copyOf(uuid, 16), c.magic(), version,
                c.time(), c.transactionId(), c.heldRoot(), c.dataSpaceMap(), c.metadataSpaceMap(),
                c.dataMappingRoot(), c.deviceDetailsRoot(), c.dataBlockSize(), c.metadataBlockSize(),
                c.metadataNrBlocks(), c.compatFlags(), c.compatRoFlags(), c.incompatFlags());
        flags = newFlags;
        time = newTime;
        transactionId = newTransactionId;
        changed = true;
    }

    /** Supplies a restored device's mappings in ascending virtual block order. */
    public interface MappingSource {
        void forEach(MappingVisitor visitor);
    }

    /**
     * For restoring a dump: adds device {@code id} with a tree of its own (as thin_restore does: nothing shared, so
     * each mapping holds one reference on its data block) and the given details, whose mapped_blocks is replaced
     * by the number of mappings.
     */
    public void restoreDevice(long id, DeviceDetails d, MappingSource mappings) {
        requireWritable();
        checkNewId(id);
        long[] root = {deviceTree.create()};
        long[] count = {0};
        mappings.forEach((vblock, dataBlock, t) -> {
            dataSpace.inc(dataBlock);
            BTree.Result r = deviceTree.insertLong(root[0], vblock, BlockTime.pack(dataBlock, t));
            if (r.existed()) {
                throw new IllegalArgumentException("device " + id + " maps virtual block " + vblock + " twice");
            }
            root[0] = r.root();
            if ((++count[0] & 0x3FFF) == 0) {
                bm.trim();
            }
        });
        mappingRoot = topTree.insertLong(mappingRoot, id, root[0]).root();
        details.put(id, d.withMappedBlocks(count[0]));
        changed = true;
        bm.trim();
    }

    // ---------------------------------------------------------------- mappings

    /** The block_time value mapped at {@code vblock}, or -1. */
    public long lookup(long id, long vblock) {
        return deviceTree.lookupLong(deviceRoot(id), vblock, -1);
    }

    /** The highest mapped virtual block of device {@code id}, or -1 when it maps none. */
    public long lastMappedBlock(long id) {
        return deviceTree.lastKey(deviceRoot(id), -1);
    }

    /** Receives mappings in virtual block order. */
    @FunctionalInterface
    public interface MappingVisitor {
        void mapping(long vblock, long dataBlock, int time);
    }

    /** Visits every mapping of device {@code id} with virtual block in [from, to). */
    public void lookupRange(long id, long from, long to, MappingVisitor visitor) {
        deviceTree.walkRange(deviceRoot(id), from, to, (leaf, i) -> {
            long v = leaf.valueLong(i);
            visitor.mapping(leaf.key(i), BlockTime.dataBlock(v), BlockTime.time(v));
            return true;
        });
    }

    /**
     * Up to {@code max} mapped virtual blocks of device {@code id} in [from, to), ascending. The walk stops after
     * the {@code max}-th, so the cost follows what is mapped, never the width of the range.
     */
    public java.util.List<Long> mappedBlocks(long id, long from, long to, int max) {
        java.util.List<Long> out = new java.util.ArrayList<>();
        deviceTree.walkRange(deviceRoot(id), from, to, (leaf, i) -> {
            out.add(leaf.key(i));
            return out.size() < max;
        });
        return out;
    }

    /**
     * Up to {@code max} mappings of device {@code id} in [from, to), ascending, as pairs: virtual block at 2i, data
     * block at 2i+1. Like {@link #mappedBlocks}, the walk stops after the last one it returns.
     */
    public long[] mappings(long id, long from, long to, int max) {
        long[] out = new long[2 * max];
        int[] n = {0};
        deviceTree.walkRange(deviceRoot(id), from, to, (leaf, i) -> {
            out[2 * n[0]] = leaf.key(i);
            out[2 * n[0] + 1] = BlockTime.dataBlock(leaf.valueLong(i));
            return ++n[0] < max;
        });
        return n[0] == max ? out : Arrays.copyOf(out, 2 * n[0]);
    }

    /**
     * Maps {@code vblock} to {@code dataBlock} stamped with the current time. The data block must already hold a
     * count for this mapping (freshly allocated); a previous, different mapping releases its block.
     *
     * @return true if the virtual block was unmapped before
     */
    public boolean insert(long id, long vblock, long dataBlock) {
        requireWritable();
        long root = prepareDevice(id);
        BTree.Result r = deviceTree.insertLong(root, vblock, BlockTime.pack(dataBlock, time));
        publishRoot(id, root, r.root());
        if (!r.existed()) {
            DeviceDetails d = details.get(id);
            details.put(id, d.withMappedBlocks(d.mappedBlocks() + 1));
        }
        changed = true;
        return !r.existed();
    }

    /**
     * Maps {@code dst}'s {@code dstBlock} to {@code dataBlock}, which another mapping already holds: its count goes
     * up by one for the new reference, and the block {@code dst} mapped there before, if another, is released. The
     * caller then calls {@link #markShared} for both devices, or writes would go in place into a shared block.
     *
     * @return true when the mapping changed
     */
    public boolean share(long dst, long dstBlock, long dataBlock) {
        requireWritable();
        long now = lookup(dst, dstBlock);
        if (now != -1 && BlockTime.dataBlock(now) == dataBlock) {
            return false;
        }
        dataSpace.inc(dataBlock);
        insert(dst, dstBlock, dataBlock);
        return true;
    }

    /**
     * After blocks were shared between devices {@code a} and {@code b} without a snapshot: the pool's time advances
     * and both devices count as snapshotted now, so every block they map (stamped before) is copied on its next
     * write, exactly as after a snapshot; the kernel and thin_check see an ordinary snapshot time.
     */
    public void markShared(long a, long b) {
        requireWritable();
        time++;
        details.put(a, details.get(a).withSnapshottedTime(time));
        details.put(b, details.get(b).withSnapshottedTime(time));
        changed = true;
    }

    /** Unmaps {@code vblock}, releasing its data block; returns whether it was mapped. */
    public boolean remove(long id, long vblock) {
        requireWritable();
        long root = deviceRoot(id);
        if (!deviceTree.contains(root, vblock)) {
            return false;
        }
        root = prepareDevice(id);
        BTree.Result r = deviceTree.remove(root, vblock);
        publishRoot(id, root, r.root());
        DeviceDetails d = details.get(id);
        details.put(id, d.withMappedBlocks(d.mappedBlocks() - 1));
        changed = true;
        return true;
    }

    /**
     * Shadows the top-level path to {@code id} before its device tree is touched. Order matters when the top-level
     * leaf is shared (with the metadata snapshot): copying it first raises the device root's count, so the device
     * tree's own shadowing then sees the root as shared and keeps the snapshot's view intact.
     */
    private long prepareDevice(long id) {
        long root = deviceRoot(id);
        if (topPathShadowed.add(id)) {
            mappingRoot = topTree.updateLong(mappingRoot, id, root).root();
        }
        return root;
    }

    private void publishRoot(long id, long oldRoot, long newRoot) {
        if (newRoot != oldRoot) {
            mappingRoot = topTree.updateLong(mappingRoot, id, newRoot).root();
        }
    }

    // ---------------------------------------------------------------- pool state

    public int time() {
        return time;
    }

    public long transactionId() {
        return transactionId;
    }

    /** As the kernel's set_transaction_id message: fails unless {@code expectedOld} is the current id. */
    public void setTransactionId(long expectedOld, long newId) {
        requireWritable();
        if (expectedOld != transactionId) {
            throw new ThinfsException("transaction id is " + transactionId + ", not " + expectedOld);
        }
        transactionId = newId;
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
        return heldRoot;
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
            throw new ThinfsException("cannot shrink the data space from " + cur + " to " + nrBlocks + " blocks");
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
            throw new ThinfsException("cannot shrink the metadata space from " + cur + " to " + nrBlocks + " blocks");
        }
        if (nrBlocks > dev) {
            throw new ThinfsException("the metadata device holds only " + dev + " blocks, not " + nrBlocks);
        }
        metadataSpace.extend(Math.min(nrBlocks, Layout.MAX_METADATA_BLOCKS) - cur);
        changed = true;
    }

    // ---------------------------------------------------------------- metadata snapshot

    /** Takes the metadata snapshot that thin_dump -m reads (FORMAT.md 12). Commits first. */
    public void reserveMetadataSnapshot() {
        requireWritable();
        if (heldRoot != 0) {
            throw new ThinfsException("a metadata snapshot is already held (block " + heldRoot + ")");
        }
        changed = true;
        commit();
        Block copy = tm.newBlock(Validators.SUPERBLOCK);
        Superblock held = committed.withBlocknr(copy.nr())
                .withCommitState(committed.flags(), committed.time(), committed.transactionId(), 0,
                        SpaceMapRoot.NONE, SpaceMapRoot.NONE, committed.dataMappingRoot(),
                        committed.deviceDetailsRoot());
        held.encode(copy.data());
        tm.inc(committed.dataMappingRoot());
        tm.inc(committed.deviceDetailsRoot());
        heldRoot = copy.nr();
        topPathShadowed.clear();
        changed = true;
    }

    /** Drops the metadata snapshot and everything only it referenced. */
    public void releaseMetadataSnapshot() {
        requireWritable();
        if (heldRoot == 0) {
            throw new ThinfsException("no metadata snapshot is held");
        }
        Block b = tm.read(heldRoot, Validators.SUPERBLOCK);
        Superblock held = Superblock.decode(b.data());
        topTree.delete(held.dataMappingRoot());
        detailsTree.delete(held.deviceDetailsRoot());
        tm.dec(heldRoot);
        heldRoot = 0;
        changed = true;
    }

    // ---------------------------------------------------------------- commit

    /**
     * Publishes the current state: details, then the data space map, then the metadata space map, then every
     * dirty block is written and flushed, then the superblock is written and flushed. The caller must have made
     * the data device durable first.
     */
    public void commit() {
        requireWritable();
        freePending(Integer.MAX_VALUE);
        if (!changed) {
            return;
        }
        try {
            details.writeTo(this);
            SpaceMapRoot data = dataSpace.commit();
            SpaceMapRoot meta = metadataSpace.commit();
            bm.flush();
            Superblock sb = committed.withCommitState(flags, time, transactionId, heldRoot, data, meta, mappingRoot,
                    detailsRoot);
            SuperblockIO.write(bm, sb, Layout.SUPERBLOCK_LOCATION);
            committed = sb;
        } catch (RuntimeException e) {
            LOG.error("commit failed; the previous transaction is still on disk", e);
            throw e;
        }
        tm.endTransaction();
        dataSpace.markCommitted();
        metadataSpace.markCommitted();
        topPathShadowed.clear();
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

    private void requireWritable() {
        if (!writable) {
            throw new MetadataReadOnlyException("the metadata was opened read-only");
        }
    }

    // ---------------------------------------------------------------- details

    /** Device details read on demand and written back at commit, as the kernel caches them. */
    private final class DetailsCache {
        private final java.util.Map<Long, DeviceDetails> cache = new java.util.HashMap<>();
        private final Set<Long> dirty = new TreeSet<>();

        DeviceDetails get(long id) {
            DeviceDetails d = cache.get(id);
            if (d != null) {
                return d;
            }
            byte[] v = new byte[DETAILS_SIZE];
            if (!detailsTree.lookup(detailsRoot, id, v)) {
                if (exists(id)) {
                    throw new CorruptMetadataException(detailsRoot, "device " + id
                            + " is in the mapping tree but has no details");
                }
                throw new NoSuchDeviceException(id);
            }
            d = DeviceDetails.decode(ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN), 0);
            cache.put(id, d);
            return d;
        }

        void put(long id, DeviceDetails d) {
            cache.put(id, d);
            dirty.add(id);
        }

        void forget(long id) {
            cache.remove(id);
            dirty.remove(id);
        }

        void writeTo(ThinMetadata md) {
            for (long id : dirty) {
                byte[] v = new byte[DETAILS_SIZE];
                cache.get(id).encode(ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN), 0);
                md.detailsRoot = md.detailsTree.insert(md.detailsRoot, id, v).root();
            }
            dirty.clear();
        }
    }
}
