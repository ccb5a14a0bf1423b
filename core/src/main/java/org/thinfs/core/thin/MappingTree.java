package org.thinfs.core.thin;

import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.btree.BTree;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.sm.disk.DiskSpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The two-level mapping tree of FORMAT.md 9: a top level {@code dev_id → device root} and, per device, a bottom level
 * {@code vblock → block_time}. Holds the working root of one transaction; a new instance is made for every load
 * (open, abort), so nothing here outlives the transaction it belongs to except through a commit.
 *
 * <p>Invariant: a data block's count in the data space map is the number of distinct bottom-level leaves that map
 * it (MappingValues), so sharing a leaf and dropping a value keep the counts right without a walk.
 */
final class MappingTree {
    private final BTree deviceTree;
    private final BTree topTree;
    /**
     * Device-tree nodes whose reference a delete still has to drop ({@link #freePending}); emptied before every
     * commit, so no committed state ever holds a block that nothing references.
     */
    private final ArrayDeque<Long> pendingFrees = new ArrayDeque<>();
    /** Devices whose top-level path was shadowed in this transaction (see {@link #prepareDevice}). */
    private final Set<Long> topPathShadowed = new HashSet<>();
    private long root;

    /** Over the top level at {@code root}; new nodes hold at most {@code nodeEntries} (BTree.FULL_NODES). */
    MappingTree(TransactionManager tm, DiskSpaceMap dataSpace, long root, int nodeEntries) {
        this.deviceTree = new BTree(tm, MappingValues.blockTime(dataSpace), nodeEntries);
        // A dropped device tree is freed in steps (freePending), not inside the top-level removal.
        this.topTree = new BTree(tm, MappingValues.subtree(tm, pendingFrees::push), nodeEntries);
        this.root = root;
    }

    /** A new, empty top level (for format). */
    static long createEmpty(TransactionManager tm, DiskSpaceMap dataSpace, int nodeEntries) {
        return new MappingTree(tm, dataSpace, 0, nodeEntries).topTree.create();
    }

    long root() {
        return root;
    }

    /** Fails unless the root reads as a btree node (checked at open). */
    void checkReadable() {
        topTree.contains(root, 0);
    }

    /** Called after a commit: the next change to a device shadows its top-level path again. */
    void endTransaction() {
        topPathShadowed.clear();
    }

    // ---------------------------------------------------------------- devices

    SortedSet<Long> deviceIds() {
        SortedSet<Long> ids = new TreeSet<>();
        topTree.walk(root, (leaf, i) -> ids.add(leaf.key(i)));
        return ids;
    }

    boolean exists(long id) {
        return topTree.contains(root, id);
    }

    void addEmptyDevice(long id) {
        addDevice(id, deviceTree.create());
    }

    /** Adds device {@code id} sharing {@code origin}'s tree (a snapshot: O(1), one count raised). */
    void addSharedDevice(long id, long origin) {
        long originRoot = deviceRoot(origin);
        deviceTree.share(originRoot);
        addDevice(id, originRoot);
    }

    private void addDevice(long id, long deviceRoot) {
        root = topTree.insertLong(root, id, deviceRoot).root();
    }

    /** Takes the device out of the top level; its tree is freed later by {@link #freePending}. */
    void removeDevice(long id) {
        root = topTree.remove(root, id).root();
        topPathShadowed.remove(id);
    }

    /** Frees up to {@code budget} nodes of deleted device trees; true when none are left. */
    boolean freePending(int budget) {
        return pendingFrees.isEmpty() || deviceTree.deleteSteps(pendingFrees, budget);
    }

    boolean hasPendingFrees() {
        return !pendingFrees.isEmpty();
    }

    /** Drops a top level that only the metadata snapshot held. */
    void deleteTopLevel(long topRoot) {
        topTree.delete(topRoot);
    }

    // ---------------------------------------------------------------- building a device (restore)

    /** A new empty device tree, returned as its root, for {@link #insertInto} and then {@link #attach}. */
    long newDeviceTree() {
        return deviceTree.create();
    }

    /** Inserts into a device tree not yet attached; returns the result (existed: the block was mapped twice). */
    BTree.Result insertInto(long deviceRoot, long vblock, long blockTime) {
        return deviceTree.insertLong(deviceRoot, vblock, blockTime);
    }

    void attach(long id, long deviceRoot) {
        addDevice(id, deviceRoot);
    }

    // ---------------------------------------------------------------- mappings

    long lookup(long id, long vblock) {
        return deviceTree.lookupLong(deviceRoot(id), vblock, -1);
    }

    long lastMappedBlock(long id) {
        return deviceTree.lastKey(deviceRoot(id), -1);
    }

    void lookupRange(long id, long from, long to, ThinMetadata.MappingVisitor visitor) {
        deviceTree.walkRange(deviceRoot(id), from, to, (leaf, i) -> {
            long v = leaf.valueLong(i);
            visitor.mapping(leaf.key(i), BlockTime.dataBlock(v), BlockTime.time(v));
            return true;
        });
    }

    List<Long> mappedBlocks(long id, long from, long to, int max) {
        List<Long> out = new ArrayList<>();
        deviceTree.walkRange(deviceRoot(id), from, to, (leaf, i) -> {
            out.add(leaf.key(i));
            return out.size() < max;
        });
        return out;
    }

    long[] mappings(long id, long from, long to, int max) {
        long[] out = new long[2 * max];
        int[] n = {0};
        deviceTree.walkRange(deviceRoot(id), from, to, (leaf, i) -> {
            out[2 * n[0]] = leaf.key(i);
            out[2 * n[0] + 1] = BlockTime.dataBlock(leaf.valueLong(i));
            return ++n[0] < max;
        });
        return n[0] == max ? out : Arrays.copyOf(out, 2 * n[0]);
    }

    /** Maps {@code vblock}; true if it was unmapped before. */
    boolean insert(long id, long vblock, long blockTime) {
        long before = prepareDevice(id);
        BTree.Result r = deviceTree.insertLong(before, vblock, blockTime);
        publishRoot(id, before, r.root());
        return !r.existed();
    }

    /** Unmaps {@code vblock}; false (and nothing shadowed) if it was not mapped. */
    boolean remove(long id, long vblock) {
        if (!deviceTree.contains(deviceRoot(id), vblock)) {
            return false;
        }
        long before = prepareDevice(id);
        publishRoot(id, before, deviceTree.remove(before, vblock).root());
        return true;
    }

    private long deviceRoot(long id) {
        long r = topTree.lookupLong(root, id, -1);
        if (r == -1) {
            throw new NoSuchDeviceException(id);
        }
        return r;
    }

    /**
     * Shadows the top-level path to {@code id} before its device tree is touched. Order matters when the top-level
     * leaf is shared (with the metadata snapshot): copying it first raises the device root's count, so the device
     * tree's own shadowing then sees the root as shared and keeps the snapshot's view intact.
     */
    private long prepareDevice(long id) {
        long r = deviceRoot(id);
        if (topPathShadowed.add(id)) {
            root = topTree.updateLong(root, id, r).root();
        }
        return r;
    }

    private void publishRoot(long id, long oldRoot, long newRoot) {
        if (newRoot != oldRoot) {
            root = topTree.updateLong(root, id, newRoot).root();
        }
    }
}
