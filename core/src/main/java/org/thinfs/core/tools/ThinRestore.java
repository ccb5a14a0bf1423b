package org.thinfs.core.tools;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.thin.ThinMetadata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code thinfs restore}: writes new metadata holding a dump's pool through {@link ThinMetadata}'s restore
 * operations, committed once at the end (the superblock last). As {@code thin_restore} 0.9.0 does: every
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

    private final BlockDevice target;
    private PoolHeader header;
    private ThinMetadata md;
    private final Set<Long> devices = new HashSet<>();
    private DeviceHeader device;
    private MappingList.Builder mappings;
    private boolean done;

    /** Restores onto {@code device}, which must hold at least 16 blocks; the caller closes it. */
    public ThinRestore(BlockDevice device) {
        this.target = device;
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
        try {
            if (target.nrBlocks() > Layout.MAX_METADATA_BLOCKS) {
                LOG.warn("truncating metadata device to {} 4k blocks", Layout.MAX_METADATA_BLOCKS);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        md = ThinMetadata.format(target, (int) h.dataBlockSize(), h.nrDataBlocks(), CACHE_BLOCKS);
        md.restoreSink().header(h.uuid().getBytes(StandardCharsets.UTF_8), (int) h.version(), (int) h.flags(),
                (int) h.time(), h.transaction());
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
        md.restoreSink().device(device.devId(), new DeviceDetails(m.size(), device.transaction(), (int) device.creationTime(),
                (int) device.snapTime()), visitor -> {
                    for (long k : order) {
                        int i = (int) k;
                        visitor.mapping(m.origin(i), m.data(i), m.time(i));
                    }
                });
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

    /** Commits once: data space map, metadata space map, every block but the superblock, then the superblock. */
    @Override
    public void endSuperblock() {
        if (header == null || device != null || done) {
            throw new IllegalStateException("superblock end out of order");
        }
        md.commit();
        done = true;
        LOG.info("restored {} devices: {} metadata blocks, {} data blocks in use", devices.size(),
                md.metadataSpace().nrAllocated(), md.dataSpace().nrAllocated());
    }
}
