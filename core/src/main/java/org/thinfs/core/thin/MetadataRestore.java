package org.thinfs.core.thin;

import org.thinfs.core.btree.BTree;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Superblock;

import java.util.Arrays;

/** {@link RestoreSink} over freshly formatted metadata: the one way a dump's devices enter a pool. */
final class MetadataRestore implements RestoreSink {
    /** Mappings between cache trims: a large device must not grow the block cache without bound. */
    private static final int TRIM_EVERY = 0x4000;

    private final ThinMetadata md;

    MetadataRestore(ThinMetadata md) {
        this.md = md;
    }

    @Override
    public void header(byte[] uuid, int version, int flags, int time, long transactionId) {
        adoptHeader(uuid, version, new TransactionState(time, transactionId, 0, flags));
    }

    /** A dump's header: uuid (first 16 bytes) and version now, the rest with the next commit. */
    private void adoptHeader(byte[] uuid, int version, TransactionState restored) {
        MetadataTransaction tx = md.transaction();
        Superblock c = tx.committed;
        tx.committed = new Superblock(c.flags(), c.blocknr(), Arrays.copyOf(uuid, 16), c.magic(), version,
                c.time(), c.transactionId(), c.heldRoot(), c.dataSpaceMap(), c.metadataSpaceMap(),
                c.dataMappingRoot(), c.deviceDetailsRoot(), c.dataBlockSize(), c.metadataBlockSize(),
                c.metadataNrBlocks(), c.compatFlags(), c.compatRoFlags(), c.incompatFlags());
        tx.state = restored;
        tx.changed = true;
    }

    @Override
    public void device(long id, DeviceDetails d, MappingSource source) {
        md.checkNewDevice(id);
        MappingTree mappings = md.transaction().mappings;
        long[] root = {mappings.newDeviceTree()};
        long[] count = {0};
        source.forEach((vblock, dataBlock, t) -> {
            md.dataSpace().inc(dataBlock);
            BTree.Result r = mappings.insertInto(root[0], vblock, BlockTime.pack(dataBlock, t));
            if (r.existed()) {
                throw new IllegalArgumentException("device " + id + " maps virtual block " + vblock + " twice");
            }
            root[0] = r.root();
            if (++count[0] % TRIM_EVERY == 0) {
                md.trimCache();
            }
        });
        mappings.attach(id, root[0]);
        md.putDetails(id, d.withMappedBlocks(count[0]));
        md.trimCache();
    }
}
