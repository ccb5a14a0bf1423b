package org.thinfs.core.tools;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.btree.BTree;
import org.thinfs.core.btree.ValueType;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.io.Validators;
import org.thinfs.core.sm.disk.DiskSpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code thinfs restore}: writes new metadata holding a dump's pool, built with the engine's btrees, space maps and
 * transaction manager, committed once at the end (the superblock last). As {@code thin_restore} 0.9.0 does: every
 * device gets a tree of its own (nothing shared, so each data block counts once per device mapping it), mapped_blocks
 * is recomputed from the mappings, the superblock takes uuid (its first 16 bytes), time, transaction, flags, version,
 * data_block_size and nr_data_blocks from the dump, and the whole device is metadata space (up to the format's
 * limit). Refused: an invalid data block size, a mapping past nr_data_blocks, a mapping time over 24 bits, a device
 * twice, an origin twice in one device.
 *
 * <p>Streams: only one device's mappings are held at a time, and the block cache is trimmed as the trees grow.
 * Not thread-safe; one instance writes one pool.
 */
public final class ThinRestore implements MetadataVisitor {
    private static final Logger LOG = LoggerFactory.getLogger(ThinRestore.class);
    private static final int CACHE_BLOCKS = 4096;

    private final BlockManager bm;
    private PoolHeader header;
    private DiskSpaceMap metadataSpace;
    private DiskSpaceMap dataSpace;
    private BTree deviceTree;
    private BTree topTree;
    private BTree detailsTree;
    private long mappingRoot;
    private long detailsRoot;
    private final Set<Long> devices = new HashSet<>();
    private DeviceHeader device;
    private MappingList.Builder mappings;
    private boolean done;

    /** Restores onto {@code device}, which must hold at least 16 blocks; the caller closes it. */
    public ThinRestore(BlockDevice device) {
        this.bm = new BlockManager(device, CACHE_BLOCKS, true);
    }

    /** Restores the XML dump {@code xml} into the existing metadata file {@code metadata}. */
    public static void restore(Path xml, Path metadata) throws IOException {
        try (BlockDevice dev = FileBlockDevice.open(metadata, true)) {
            XmlDumpReader.read(xml, new ThinRestore(dev));
        }
    }

    /** Restores {@code dump} onto {@code device}. */
    public static void restore(PoolDump dump, BlockDevice device) {
        dump.accept(new ThinRestore(device));
    }

    @Override
    public void beginSuperblock(PoolHeader h) {
        if (header != null) {
            throw new IllegalStateException("a restore writes one pool");
        }
        if (!Layout.isValidDataBlockSectors(h.dataBlockSize())) {
            throw new IllegalArgumentException("data block size " + h.dataBlockSize() + " sectors is not a multiple"
                    + " of 128 in 128..2097152");
        }
        if (Long.compareUnsigned(h.nrDataBlocks(), Layout.MAX_DATA_BLOCK + 1) > 0) {
            throw new IllegalArgumentException("nr_data_blocks " + Long.toUnsignedString(h.nrDataBlocks())
                    + " exceeds 2^40");
        }
        header = h;
        long metaBlocks = Math.min(bm.nrBlocks(), Layout.MAX_METADATA_BLOCKS);
        if (bm.nrBlocks() > Layout.MAX_METADATA_BLOCKS) {
            LOG.warn("truncating metadata device to {} 4k blocks", Layout.MAX_METADATA_BLOCKS);
        }
        metadataSpace = DiskSpaceMap.newMetadata(metaBlocks);
        TransactionManager tm = new TransactionManager(bm, metadataSpace);
        metadataSpace.attachNew(tm);
        dataSpace = DiskSpaceMap.formatData(tm, h.nrDataBlocks());
        deviceTree = new BTree(tm, blockTimes(dataSpace));
        topTree = new BTree(tm, subtrees(tm, deviceTree));
        detailsTree = new BTree(tm, ValueType.plain(DeviceDetails.SIZE));
        detailsRoot = detailsTree.create();
        mappingRoot = topTree.create();
    }

    @Override
    public void beginDevice(DeviceHeader h) {
        if (header == null || device != null) {
            throw new IllegalStateException("device " + h.devId() + " outside the superblock");
        }
        if (!devices.add(h.devId())) {
            throw new IllegalArgumentException("device " + Long.toUnsignedString(h.devId()) + " appears twice");
        }
        if (h.creationTime() > 0xFFFFFFFFL || h.snapTime() > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("device " + h.devId() + ": times must fit 32 bits");
        }
        device = h;
        mappings = new MappingList.Builder();
    }

    @Override
    public void mapping(long origin, long data, int time) {
        if (device == null) {
            throw new IllegalStateException("mapping outside a device");
        }
        if (Long.compareUnsigned(data, header.nrDataBlocks()) >= 0) {
            throw new IllegalArgumentException("device " + device.devId() + ": mapping beyond end of data device ("
                    + "virtual block " + Long.toUnsignedString(origin) + " to data block " + Long.toUnsignedString(data)
                    + ", " + header.nrDataBlocks() + " data blocks)");
        }
        if ((time & ~Layout.TIME_MASK) != 0) {
            throw new IllegalArgumentException("device " + device.devId() + ": mapping time " + time
                    + " does not fit 24 bits");
        }
        mappings.add(origin, data, time);
    }

    @Override
    public void endDevice() {
        MappingList m = mappings.build();
        long[] order = sortedOrder(m);
        long root = deviceTree.create();
        long prev = -1;
        for (int k = 0; k < order.length; k++) {
            int i = (int) order[k];
            if (k > 0 && m.origin(i) == prev) {
                throw new IllegalArgumentException("device " + device.devId() + " maps virtual block "
                        + Long.toUnsignedString(prev) + " twice");
            }
            prev = m.origin(i);
            dataSpace.inc(m.data(i));
            root = deviceTree.insertLong(root, m.origin(i), BlockTime.pack(m.data(i), m.time(i))).root();
            if ((k & 0x3FFF) == 0x3FFF) {
                bm.trim();
            }
        }
        mappingRoot = topTree.insertLong(mappingRoot, device.devId(), root).root();
        byte[] v = new byte[DeviceDetails.SIZE];
        new DeviceDetails(m.size(), device.transaction(), (int) device.creationTime(), (int) device.snapTime())
                .encode(ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN), 0);
        detailsRoot = detailsTree.insert(detailsRoot, device.devId(), v).root();
        bm.trim();
        device = null;
        mappings = null;
    }

    /** Indices of {@code m} in ascending origin (usually the identity: dumps are sorted). */
    private static long[] sortedOrder(MappingList m) {
        long[] order = new long[m.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (!m.isSortedByOrigin()) {
            Long[] boxed = Arrays.stream(order).boxed().toArray(Long[]::new);
            Arrays.sort(boxed, (a, b) -> Long.compareUnsigned(m.origin(a.intValue()), m.origin(b.intValue())));
            for (int i = 0; i < order.length; i++) {
                order[i] = boxed[i];
            }
        }
        return order;
    }

    /** Commits: data space map, metadata space map, every block but the superblock, then the superblock. */
    @Override
    public void endSuperblock() {
        if (header == null || device != null || done) {
            throw new IllegalStateException("superblock end out of order");
        }
        SpaceMapRoot data = dataSpace.commit();
        SpaceMapRoot meta = metadataSpace.commit();
        bm.flush();
        byte[] uuid = Arrays.copyOf(header.uuid().getBytes(StandardCharsets.UTF_8), 16);
        Superblock sb = new Superblock((int) header.flags(), 0, uuid, Layout.MAGIC, (int) header.version(),
                (int) header.time(), header.transaction(), 0, data, meta, mappingRoot, detailsRoot,
                (int) header.dataBlockSize(), Layout.METADATA_BLOCK_SECTORS, metadataSpace.nrBlocks(), 0, 0, 0);
        ByteBuffer b = ByteBuffer.allocate(Layout.BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        sb.encode(b);
        bm.writeAndFlush(Layout.SUPERBLOCK_LOCATION, b, Validators.SUPERBLOCK);
        done = true;
        LOG.info("restored {} devices: {} metadata blocks, {} data blocks in use", devices.size(),
                meta.nrAllocated(), data.nrAllocated());
    }

    /** Bottom-level values: each mapping holds a reference on its data block (FORMAT.md 9.2). */
    private static ValueType blockTimes(DiskSpaceMap data) {
        return new ValueType() {
            @Override
            public int size() {
                return 8;
            }

            @Override
            public void inc(ByteBuffer leaf, int offset) {
                data.inc(BlockTime.dataBlock(leaf.getLong(offset)));
            }

            @Override
            public void dec(ByteBuffer leaf, int offset) {
                data.dec(BlockTime.dataBlock(leaf.getLong(offset)));
            }
        };
    }

    /** Top-level values: each holds a reference on a device tree's root. */
    private static ValueType subtrees(TransactionManager tm, BTree deviceTree) {
        return new ValueType() {
            @Override
            public int size() {
                return 8;
            }

            @Override
            public void inc(ByteBuffer leaf, int offset) {
                tm.inc(leaf.getLong(offset));
            }

            @Override
            public void dec(ByteBuffer leaf, int offset) {
                deviceTree.delete(leaf.getLong(offset));
            }
        };
    }
}
