package org.thinfs.core.thin;

import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.sm.disk.DiskSpaceMap;
import org.thinfs.core.tm.TransactionManager;

/**
 * The structures a transaction works on, over one block manager: the metadata space map and the transaction manager
 * (each needs the other, so the map is attached after the manager is made), the data space map, the mapping tree and
 * the device details tree. Built empty for a new pool ({@link #format}) or from a committed superblock
 * ({@link #open}); ThinMetadata holds one set and builds a new one from the superblock when it aborts.
 */
record MetadataStructures(TransactionManager tm, DiskSpaceMap metadataSpace, DiskSpaceMap dataSpace,
                          MappingTree mappings, DetailsTree details) {

    /** Empty structures for a pool of {@code metaBlocks} metadata and {@code nrDataBlocks} data blocks. */
    static MetadataStructures format(BlockManager bm, long metaBlocks, long nrDataBlocks, int nodeEntries) {
        DiskSpaceMap metadataSpace = DiskSpaceMap.newMetadata(metaBlocks);
        TransactionManager tm = new TransactionManager(bm, metadataSpace);
        metadataSpace.attachNew(tm);
        DiskSpaceMap dataSpace = DiskSpaceMap.formatData(tm, nrDataBlocks);
        DetailsTree details = new DetailsTree(tm, DetailsTree.createEmpty(tm, nodeEntries), nodeEntries);
        MappingTree mappings = new MappingTree(tm, dataSpace, MappingTree.createEmpty(tm, dataSpace, nodeEntries),
                nodeEntries);
        return new MetadataStructures(tm, metadataSpace, dataSpace, mappings, details);
    }

    /**
     * The structures {@code sb} commits, with the roots of both trees read and checked (a damaged root is refused
     * here, before anything uses it).
     */
    static MetadataStructures open(BlockManager bm, Superblock sb, int nodeEntries) {
        DiskSpaceMap metadataSpace = DiskSpaceMap.existingMetadata(sb.metadataSpaceMap(), bm.nrBlocks());
        TransactionManager tm = new TransactionManager(bm, metadataSpace);
        metadataSpace.attachExisting(tm);
        DiskSpaceMap dataSpace = DiskSpaceMap.openData(tm, sb.dataSpaceMap());
        MappingTree mappings = new MappingTree(tm, dataSpace, sb.dataMappingRoot(), nodeEntries);
        DetailsTree details = new DetailsTree(tm, sb.deviceDetailsRoot(), nodeEntries);
        mappings.checkReadable();
        details.checkReadable();
        return new MetadataStructures(tm, metadataSpace, dataSpace, mappings, details);
    }
}
