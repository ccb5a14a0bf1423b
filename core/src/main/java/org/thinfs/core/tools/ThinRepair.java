package org.thinfs.core.tools;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.ChangeRefusedException;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.btree.Node;
import org.thinfs.core.format.BlockTime;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.io.Validators;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * {@code thinfs repair}: rebuilds metadata from whatever of a damaged file can still be read, as thin_repair does,
 * into a new file (never over the input). Trees are walked leniently: a node that fails its checksum, location or
 * structure is skipped with its subtree and reported; keys out of their parent's range or out of order, and
 * mappings past the data device, are dropped. A device whose details are lost gets the pool's transaction id and
 * times of 0. The salvage is then written through {@link ThinRestore}, so the result passes thin_check.
 */
public final class ThinRepair {
    private static final Logger LOG = LoggerFactory.getLogger(ThinRepair.class);

    private final MetadataBlocks blocks;
    private final List<String> problems = new ArrayList<>();

    private ThinRepair(BlockDevice device) {
        this.blocks = new MetadataBlocks(device);
    }

    /** What a repair salvaged and what it had to leave behind. */
    public record Report(int devices, long mappings, List<String> problems) {
    }

    /** Repairs {@code input} into {@code output}, which must already exist and must be a different file. */
    public static Report repair(Path input, Path output) throws IOException {
        if (Files.exists(output) && Files.isSameFile(input, output)) {
            throw new ChangeRefusedException("repair writes a new file: the output must not be the input " + input);
        }
        PoolDump salvaged;
        ThinRepair r;
        try (FileBlockDevice in = FileBlockDevice.open(input, false)) {
            r = new ThinRepair(in);
            salvaged = r.salvage();
        }
        try (FileBlockDevice out = FileBlockDevice.open(output, true)) {
            ThinRestore.restore(salvaged, out);
        }
        long mappings = 0;
        for (DeviceDump d : salvaged.devices()) {
            mappings += d.mappings().size();
        }
        r.problems.forEach(p -> LOG.warn("repair: {}", p));
        return new Report(salvaged.devices().size(), mappings, List.copyOf(r.problems));
    }

    private PoolDump salvage() {
        Superblock sb = superblock();
        long nrData = sb.dataSpaceMap().nrBlocks();
        SortedMap<Long, DeviceDetails> details = new TreeMap<>();
        walk(sb.deviceDetailsRoot(), DeviceDetails.SIZE, "device details", (leaf, i) ->
                details.put(leaf.key(i), DeviceDetails.decode(leaf.buffer(), leaf.valueOffset(i))));
        SortedMap<Long, Long> roots = new TreeMap<>();
        walk(sb.dataMappingRoot(), 8, "top-level mapping tree", (leaf, i) -> roots.put(leaf.key(i),
                leaf.valueLong(i)));
        DumpBuilder out = new DumpBuilder();
        out.beginSuperblock(new PoolHeader("", Integer.toUnsignedLong(sb.time()), sb.transactionId(),
                sb.flags() & ~Layout.FLAG_NEEDS_CHECK, Layout.VERSION, Integer.toUnsignedLong(sb.dataBlockSize()),
                nrData));
        for (var e : roots.entrySet()) {
            long id = e.getKey();
            List<long[]> maps = new ArrayList<>();
            walk(e.getValue(), 8, "device " + id, (leaf, i) -> {
                long v = leaf.valueLong(i);
                long data = BlockTime.dataBlock(v);
                if (data < nrData) {
                    maps.add(new long[]{leaf.key(i), data, BlockTime.time(v)});
                } else {
                    problems.add("device " + id + ": mapping of block " + leaf.key(i) + " to data block " + data
                            + " past the data device dropped");
                }
            });
            DeviceDetails d = details.get(id);
            if (d == null) {
                problems.add("device " + id + ": details lost, rebuilt with transaction " + sb.transactionId());
                d = new DeviceDetails(maps.size(), sb.transactionId(), 0, 0);
            }
            out.beginDevice(new DeviceHeader(id, maps.size(), d.transactionId(),
                    Integer.toUnsignedLong(d.creationTime()), Integer.toUnsignedLong(d.snapshottedTime())));
            for (long[] m : maps) {
                out.mapping(m[0], m[1], (int) m[2]);
            }
            out.endDevice();
        }
        for (long id : details.keySet()) {
            if (!roots.containsKey(id)) {
                problems.add("device " + id + ": has details but no mapping tree; left out");
            }
        }
        out.endSuperblock();
        return out.build();
    }

    /** The live superblock; a bad checksum is reported and tolerated when the magic and fields still make sense. */
    private Superblock superblock() {
        ByteBuffer b = blocks.readRaw(Layout.SUPERBLOCK_LOCATION);
        try {
            Validators.SUPERBLOCK.check(b, Layout.SUPERBLOCK_LOCATION);
        } catch (CorruptMetadataException e) {
            problems.add(e.getMessage() + "; using its fields anyway");
        }
        Superblock sb = Superblock.decode(b);
        if (sb.magic() != Layout.MAGIC || !Layout.isValidDataBlockSectors(Integer.toUnsignedLong(sb.dataBlockSize()))) {
            throw new CorruptMetadataException(Layout.SUPERBLOCK_LOCATION, "the superblock is unreadable (magic " + sb.magic() + ", data block size "
                    + Integer.toUnsignedLong(sb.dataBlockSize()) + "): nothing to repair from");
        }
        return sb;
    }

    private interface EntryVisitor {
        void entry(Node leaf, int i);
    }

    private void walk(long root, int valueSize, String what, EntryVisitor v) {
        long[] last = {-1};
        boolean[] any = {false};
        walk(root, valueSize, what, 0, 0, -1, new HashSet<>(), (leaf, i) -> {
            long k = leaf.key(i);
            if (any[0] && Long.compareUnsigned(k, last[0]) <= 0) {
                problems.add(what + ": key " + Long.toUnsignedString(k) + " out of order in block " + leaf.blocknr()
                        + "; dropped");
                return;
            }
            any[0] = true;
            last[0] = k;
            v.entry(leaf, i);
        });
    }

    /** Visits the entries of node {@code nr} with keys in [lo, hi) (hi -1 = unbounded), skipping what is damaged. */
    private void walk(long nr, int valueSize, String what, int depth, long lo, long hi, Set<Long> seen,
                      EntryVisitor v) {
        if (depth > LeafWalker.MAX_DEPTH || !seen.add(nr)) {
            problems.add(what + ": block " + nr + " reached twice or too deep; skipped");
            return;
        }
        Node n;
        try {
            n = new Node(blocks.read(nr, Validators.NODE), nr);
            n.validate(valueSize);
        } catch (CorruptMetadataException e) {
            problems.add(what + ": " + e.getMessage() + "; its subtree is lost");
            return;
        }
        for (int i = 0; i < n.nrEntries(); i++) {
            long k = n.key(i);
            if (Long.compareUnsigned(k, lo) < 0 || (hi != -1 && Long.compareUnsigned(k, hi) >= 0)) {
                problems.add(what + ": key " + Long.toUnsignedString(k) + " in block " + nr
                        + " outside its parent's range; dropped");
                continue;
            }
            if (n.isLeaf()) {
                v.entry(n, i);
            } else {
                long childHi = i + 1 < n.nrEntries() ? n.key(i + 1) : hi;
                walk(n.valueLong(i), valueSize, what, depth + 1, k, childHi, seen, v);
            }
        }
    }
}
