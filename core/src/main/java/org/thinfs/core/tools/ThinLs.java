package org.thinfs.core.tools;

import org.thinfs.core.CorruptMetadataException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * {@code thinfs ls}: per device its mapped, exclusive and shared blocks, computed from the mappings as thin_ls
 * 0.9.0 does (not from space-map counts): a first pass counts how many mappings use each data block over every
 * device, a second counts per device the mappings whose data block is used once. Devices are those of the details
 * tree, in ascending id; a device without a mapping tree is an error, as in thin_ls.
 */
public final class ThinLs {
    /** The columns {@link #format} prints, in thin_ls's field names. */
    public static final List<String> FIELDS = List.of("DEV", "MAPPED_BLOCKS", "EXCLUSIVE_BLOCKS", "SHARED_BLOCKS",
            "TRANSACTION", "CREATE_TIME", "SNAP_TIME");

    private ThinLs() {
    }

    public interface DataBlocks {
        /** Feeds every data block device {@code devId} maps to {@code sink}. */
        void forEach(long devId, LongConsumer sink);
    }

    /** Computes the rows by streaming the metadata twice (memory: one byte per data block touched). */
    public static List<LsRow> compute(MetadataReader reader) {
        List<DeviceHeader> devices = new ArrayList<>();
        for (long id : reader.details().keySet()) {
            if (!reader.deviceRoots().containsKey(id)) {
                throw new CorruptMetadataException(reader.superblock().dataMappingRoot(), "device " + id
                        + " is in the details tree but has no mapping tree");
            }
            devices.add(reader.deviceHeader(id));
        }
        return compute(devices, (id, sink) -> reader.mappings(id, new DataSink(sink)));
    }

    /** Computes the rows of a dump held in memory. */
    public static List<LsRow> compute(PoolDump dump) {
        List<DeviceHeader> devices = dump.devices().stream().map(DeviceDump::header).toList();
        return compute(devices, (id, sink) -> {
            MappingList m = dump.device(id).orElseThrow().mappings();
            for (int i = 0; i < m.size(); i++) {
                sink.accept(m.data(i));
            }
        });
    }

    /**
     * Per device of {@code devices}, the data blocks that no other device of them maps (thin_ls's EXCLUSIVE), from
     * any source of mappings (a live pool's, for one): two passes, a byte per data block touched.
     */
    public static java.util.Map<Long, Long> exclusiveBlocks(java.util.Collection<Long> devices, DataBlocks blocks) {
        CountArray uses = new CountArray();
        for (long id : devices) {
            blocks.forEach(id, uses::increment);
        }
        java.util.Map<Long, Long> out = new java.util.HashMap<>();
        for (long id : devices) {
            long[] exclusive = {0};
            blocks.forEach(id, b -> {
                if (uses.get(b) == 1) {
                    exclusive[0]++;
                }
            });
            out.put(id, exclusive[0]);
        }
        return out;
    }

    private static List<LsRow> compute(List<DeviceHeader> devices, DataBlocks blocks) {
        java.util.Map<Long, Long> alone = exclusiveBlocks(devices.stream().map(DeviceHeader::devId).toList(), blocks);
        List<LsRow> rows = new ArrayList<>();
        for (DeviceHeader d : devices) {
            long exclusive = alone.get(d.devId());
            rows.add(new LsRow(d.devId(), d.mappedBlocks(), exclusive, d.mappedBlocks() - exclusive,
                    d.transaction(), d.creationTime(), d.snapTime()));
        }
        return rows;
    }

    /**
     * Formats rows as thin_ls's grid: a header line of {@link #FIELDS}, every cell right-aligned to its column's
     * widest cell and followed by one space.
     */
    public static String format(List<LsRow> rows) {
        List<String[]> cells = new ArrayList<>();
        cells.add(FIELDS.toArray(String[]::new));
        for (LsRow r : rows) {
            cells.add(new String[]{Long.toUnsignedString(r.devId()), Long.toUnsignedString(r.mappedBlocks()),
                    Long.toUnsignedString(r.exclusiveBlocks()), Long.toUnsignedString(r.sharedBlocks()),
                    Long.toUnsignedString(r.transaction()), Long.toUnsignedString(r.creationTime()),
                    Long.toUnsignedString(r.snapTime())});
        }
        int[] width = new int[FIELDS.size()];
        for (String[] row : cells) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] row : cells) {
            for (int i = 0; i < row.length; i++) {
                sb.append(String.format(Locale.ROOT, "%" + width[i] + "s ", row[i]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Adapts a visitor's mapping events to a data-block consumer. */
    record DataSink(LongConsumer sink) implements MetadataVisitor {
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
            sink.accept(data);
        }
    }
}
