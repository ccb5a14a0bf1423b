package org.thinfs.core.tools;

import org.thinfs.core.btree.Node;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.Superblock;

import java.util.Map;
import java.util.TreeMap;

/**
 * Checks the thin trees one superblock names (the live one, or the metadata snapshot's copy): the device details
 * tree, the mapping tree's top level and every device's tree. Counts the metadata references of the two roots and
 * of every top-level value, and one data reference per mapping of each distinct device-tree leaf (FORMAT.md 9.2).
 * Then compares the details with the trees: the same device ids, mapped_blocks equal to the mappings found, times
 * not after the pool's time.
 */
final class ViewChecker {
    private final CheckContext ctx;
    private final TreeChecker trees;
    private final Superblock sb;
    private final String label;
    private final Map<Long, DeviceDetails> details = new TreeMap<>(Long::compareUnsigned);
    private final Map<Long, Long> roots = new TreeMap<>(Long::compareUnsigned);

    ViewChecker(CheckContext ctx, TreeChecker trees, Superblock sb, String label) {
        this.ctx = ctx;
        this.trees = trees;
        this.sb = sb;
        this.label = label;
    }

    void check() {
        boolean detailsComplete = false;
        if (ctx.reference(sb.deviceDetailsRoot(), label + " device details root")) {
            detailsComplete = trees.walk(sb.deviceDetailsRoot(), TreeKind.DETAILS, label + " device details tree",
                    new TreeChecker.LeafHandler() {
                        @Override
                        public void entries(Node leaf) {
                            for (int i = 0; i < leaf.nrEntries(); i++) {
                                details.put(leaf.key(i), DeviceDetails.decode(leaf.buffer(), leaf.valueOffset(i)));
                            }
                        }
                    }).complete();
        }
        boolean topComplete = false;
        if (ctx.reference(sb.dataMappingRoot(), label + " mapping root")) {
            topComplete = trees.walk(sb.dataMappingRoot(), TreeKind.TOP_LEVEL, label + " mapping tree top level",
                    new TreeChecker.LeafHandler() {
                        @Override
                        public void firstVisit(Node leaf) {
                            for (int i = 0; i < leaf.nrEntries(); i++) {
                                ctx.reference(leaf.valueLong(i), "the mapping tree root of device "
                                        + Long.toUnsignedString(leaf.key(i)) + " (top-level leaf " + leaf.blocknr()
                                        + ")");
                            }
                        }

                        @Override
                        public void entries(Node leaf) {
                            for (int i = 0; i < leaf.nrEntries(); i++) {
                                roots.put(leaf.key(i), leaf.valueLong(i));
                            }
                        }
                    }).complete();
        }
        Map<Long, TreeChecker.Summary> devices = new TreeMap<>(Long::compareUnsigned);
        for (Map.Entry<Long, Long> e : roots.entrySet()) {
            devices.put(e.getKey(), trees.walk(e.getValue(), TreeKind.DEVICE, label + " mapping tree of device "
                    + Long.toUnsignedString(e.getKey()), new MappingLeaves(e.getKey())));
        }
        compareDetails(devices, detailsComplete, topComplete);
    }

    private void compareDetails(Map<Long, TreeChecker.Summary> devices, boolean detailsComplete,
                                boolean topComplete) {
        long time = Integer.toUnsignedLong(sb.time());
        for (Map.Entry<Long, DeviceDetails> e : details.entrySet()) {
            String dev = label + " device " + Long.toUnsignedString(e.getKey());
            DeviceDetails d = e.getValue();
            TreeChecker.Summary s = devices.get(e.getKey());
            if (s == null) {
                if (topComplete) {
                    ctx.error(sb.dataMappingRoot(), dev + " is in the details tree but not in the mapping tree");
                }
            } else if (s.complete() && s.entries() != d.mappedBlocks()) {
                ctx.error(roots.get(e.getKey()), dev + " details say " + Long.toUnsignedString(d.mappedBlocks())
                        + " mapped blocks, its mapping tree holds " + s.entries());
            }
            long created = Integer.toUnsignedLong(d.creationTime());
            long snapped = Integer.toUnsignedLong(d.snapshottedTime());
            if (created > time || snapped > time) {
                ctx.error(sb.deviceDetailsRoot(), dev + " has creation time " + created + " and snapshot time "
                        + snapped + ", after the pool's time " + time);
            } else if (created > snapped) {
                ctx.warning(sb.deviceDetailsRoot(), dev + " was created at time " + created
                        + ", after its last snapshot at time " + snapped);
            }
            if (Long.compareUnsigned(e.getKey(), Layout.MAX_THIN_DEVICE_ID) > 0) {
                ctx.warning(sb.deviceDetailsRoot(), dev + " has an id beyond dm-thin's 24-bit limit");
            }
        }
        if (detailsComplete) {
            for (long id : roots.keySet()) {
                if (!details.containsKey(id)) {
                    ctx.error(sb.deviceDetailsRoot(), label + " device " + Long.toUnsignedString(id)
                            + " is in the mapping tree but not in the details tree");
                }
            }
        }
    }

    /** Counts data references and checks the mappings of each distinct device-tree leaf once. */
    private final class MappingLeaves implements TreeChecker.LeafHandler {
        private final long devId;

        MappingLeaves(long devId) {
            this.devId = devId;
        }

        @Override
        public void firstVisit(Node leaf) {
            long poolTime = Integer.toUnsignedLong(sb.time());
            boolean timesComparable = poolTime <= Layout.TIME_MASK;
            int beyond = 0;
            int late = 0;
            long firstBeyond = 0;
            for (int i = 0, n = leaf.nrEntries(); i < n; i++) {
                long bt = leaf.valueLong(i);
                long data = bt >>> 24;
                if (data >= ctx.dataLimit) {
                    if (beyond++ == 0) {
                        firstBeyond = data;
                    }
                } else {
                    ctx.dataRefs.increment(data);
                }
                if (timesComparable && (bt & Layout.TIME_MASK) > poolTime) {
                    late++;
                }
            }
            if (beyond > 0) {
                ctx.error(leaf.blocknr(), beyond + " mappings of " + label + " device " + Long.toUnsignedString(devId)
                        + " point past the data device's " + ctx.dataLimit + " blocks (first: data block "
                        + firstBeyond + ")");
            }
            if (late > 0) {
                ctx.error(leaf.blocknr(), late + " mappings of " + label + " device " + Long.toUnsignedString(devId)
                        + " are stamped later than the pool's time " + poolTime);
            }
        }
    }
}
