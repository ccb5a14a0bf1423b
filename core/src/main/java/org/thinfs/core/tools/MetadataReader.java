package org.thinfs.core.tools;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.btree.Node;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.io.Validators;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reads a pool's logical content straight from a metadata device, as {@code thin_dump} does: the superblock (or
 * the metadata snapshot it holds, like {@code thin_dump -m}), the device details tree, the top level of the
 * mapping tree and each device's tree (values are block_time: data = v >>> 24, time = v & 0xFFFFFF).
 *
 * <p>Every node read is validated (checksum, location, node rules) and any damage throws
 * {@link CorruptMetadataException}; use {@link MetadataChecker} for a full diagnosis. As in thin_dump, a device
 * present in the mapping tree but missing from the details tree is an error, and a device only in the details
 * tree is left out of the dump; through the metadata snapshot {@code nr_data_blocks} is 0 because the snapshot's
 * space-map roots are zero.
 */
public final class MetadataReader {
    private final MetadataBlocks blocks;
    private final Superblock sb;
    private final boolean viaSnapshot;
    private final SortedMap<Long, DeviceDetails> details;
    private final SortedMap<Long, Long> roots;

    private MetadataReader(MetadataBlocks blocks, Superblock sb, boolean viaSnapshot) {
        this.blocks = blocks;
        this.sb = sb;
        this.viaSnapshot = viaSnapshot;
        this.details = readDetails();
        this.roots = readRoots();
    }

    /**
     * Opens the metadata on {@code device} (which the caller keeps open and closes).
     *
     * @param viaSnapshot read through the metadata snapshot named by {@code held_root}
     */
    public static MetadataReader open(BlockDevice device, boolean viaSnapshot) {
        MetadataBlocks blocks = new MetadataBlocks(device);
        if (blocks.nrBlocks() < 1) {
            throw new CorruptMetadataException(0, "the metadata device is empty");
        }
        Superblock live = readSuperblock(blocks, Layout.SUPERBLOCK_LOCATION);
        if (!viaSnapshot) {
            return new MetadataReader(blocks, live, false);
        }
        if (live.heldRoot() == 0) {
            throw new CorruptMetadataException(0, "no metadata snapshot is held (held_root is 0)");
        }
        return new MetadataReader(blocks, readSuperblock(blocks, live.heldRoot()), true);
    }

    /** Reads the whole dump of a metadata file. */
    public static PoolDump read(Path metadata, boolean viaSnapshot) throws IOException {
        DumpBuilder b = new DumpBuilder();
        dump(metadata, viaSnapshot, b);
        return b.build();
    }

    /** Streams the dump of a metadata file into {@code v}. */
    public static void dump(Path metadata, boolean viaSnapshot, MetadataVisitor v) throws IOException {
        try (BlockDevice dev = FileBlockDevice.open(metadata, false)) {
            open(dev, viaSnapshot).accept(v);
        }
    }

    static Superblock readSuperblock(MetadataBlocks blocks, long nr) {
        ByteBuffer b = blocks.readRaw(nr);
        if (isZero(b)) {
            throw new CorruptMetadataException(nr, "the superblock is all zeros (unformatted metadata)");
        }
        Validators.SUPERBLOCK.check(b, nr);
        Superblock s = Superblock.decode(b);
        if (s.magic() != Layout.MAGIC) {
            throw new CorruptMetadataException(nr, "superblock magic is " + s.magic() + ", wanted " + Layout.MAGIC);
        }
        if (s.incompatFlags() != 0) {
            throw new CorruptMetadataException(nr, "unsupported incompatible features "
                    + Integer.toUnsignedString(s.incompatFlags()));
        }
        return s;
    }

    static boolean isZero(ByteBuffer b) {
        for (int i = 0; i < Layout.BLOCK_SIZE; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The superblock the dump is read from (the snapshot copy when reading through it). */
    public Superblock superblock() {
        return sb;
    }

    public PoolHeader header() {
        long nrData = viaSnapshot ? 0 : sb.dataSpaceMap().nrBlocks();
        return new PoolHeader("", Integer.toUnsignedLong(sb.time()), sb.transactionId(),
                Integer.toUnsignedLong(sb.flags()), Integer.toUnsignedLong(sb.version()),
                Integer.toUnsignedLong(sb.dataBlockSize()), nrData);
    }

    /** Device details by id, as the details tree holds them. */
    public SortedMap<Long, DeviceDetails> details() {
        return Collections.unmodifiableSortedMap(details);
    }

    /** Bottom-level root by device id, as the top level of the mapping tree holds them. */
    public SortedMap<Long, Long> deviceRoots() {
        return Collections.unmodifiableSortedMap(roots);
    }

    public DeviceHeader deviceHeader(long devId) {
        DeviceDetails d = details.get(devId);
        if (d == null) {
            if (roots.containsKey(devId)) {
                throw new CorruptMetadataException(sb.deviceDetailsRoot(), "mappings present for device " + devId
                        + ", but it isn't present in the device details tree");
            }
            throw new NoSuchDeviceException(devId);
        }
        return new DeviceHeader(devId, d.mappedBlocks(), d.transactionId(), Integer.toUnsignedLong(
                d.creationTime()), Integer.toUnsignedLong(d.snapshottedTime()));
    }

    /** Streams one device's mappings, in ascending origin, into {@code v} (no begin/end device events). */
    public void mappings(long devId, MetadataVisitor v) {
        Long root = roots.get(devId);
        if (root == null) {
            throw new NoSuchDeviceException(devId);
        }
        LeafWalker.walk(blocks, root, 8, leaf -> {
            for (int i = 0, n = leaf.nrEntries(); i < n; i++) {
                long bt = leaf.valueLong(i);
                v.mapping(leaf.key(i), bt >>> 24, (int) (bt & Layout.TIME_MASK));
            }
        });
    }

    /** One device's mappings collected into a list. */
    public MappingList mappingList(long devId) {
        MappingList.Builder b = new MappingList.Builder();
        mappings(devId, new MetadataVisitor() {
            @Override
            public void beginSuperblock(PoolHeader header) {
            }

            @Override
            public void endSuperblock() {
            }

            @Override
            public void beginDevice(DeviceHeader header) {
            }

            @Override
            public void endDevice() {
            }

            @Override
            public void mapping(long origin, long data, int time) {
                b.add(origin, data, time);
            }
        });
        return b.build();
    }

    /** Streams the whole dump: devices of the mapping tree in ascending id with their details. */
    public void accept(MetadataVisitor v) {
        v.beginSuperblock(header());
        for (long devId : roots.keySet()) {
            v.beginDevice(deviceHeader(devId));
            mappings(devId, v);
            v.endDevice();
        }
        v.endSuperblock();
    }

    private SortedMap<Long, DeviceDetails> readDetails() {
        SortedMap<Long, DeviceDetails> m = new TreeMap<>(Long::compareUnsigned);
        LeafWalker.walk(blocks, sb.deviceDetailsRoot(), DeviceDetails.SIZE, leaf -> {
            for (int i = 0, n = leaf.nrEntries(); i < n; i++) {
                m.put(leaf.key(i), DeviceDetails.decode(leaf.buffer(), leaf.valueOffset(i)));
            }
        });
        return m;
    }

    private SortedMap<Long, Long> readRoots() {
        SortedMap<Long, Long> m = new TreeMap<>(Long::compareUnsigned);
        LeafWalker.walk(blocks, sb.dataMappingRoot(), 8, (Node leaf) -> {
            for (int i = 0, n = leaf.nrEntries(); i < n; i++) {
                m.put(leaf.key(i), leaf.valueLong(i));
            }
        });
        return m;
    }
}
