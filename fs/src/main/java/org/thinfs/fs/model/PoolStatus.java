package org.thinfs.fs.model;

import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.format.DeviceDetails;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.SpacePolicy;
import org.thinfs.core.pool.ThinPool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code thinfs status} reports, built from an open pool: by the mount daemon for a live answer over the
 * control socket, or by the command from the files of an unmounted pool. The same record either way, so the JSON
 * a script reads does not depend on whether the pool is mounted.
 *
 * @param live                whether the figures are the daemon's own (uncommitted changes included) rather than
 *                            the last commit's
 * @param readOnly            why the pool refuses changes, or null
 * @param heldMetadataRoot    block of the held metadata snapshot ({@code thinfs metadata-snap hold}), 0 when none
 * @param warnings            one sentence per space at or past its threshold, or read-only, or needs check
 * @param servedBy            how the daemon serves the pool ("fuse MOUNTPOINT", "nbd ADDRESS"); empty when offline
 */
public record PoolStatus(int version, String pool, boolean mounted, boolean live, long transactionId, int time,
                         long dataBlockSize, long dataBlocks, long dataBlocksUsed, long metadataBlocks,
                         long metadataBlocksUsed, boolean uncommittedChanges, String readOnly, boolean needsCheck,
                         long heldMetadataRoot, Settings settings, List<String> warnings, List<Device> volumes,
                         Map<String, List<Device>> snapshots, List<Device> lostFound, List<String> servedBy) {
    public static final int VERSION = 1;

    /** One thin device as reported. */
    public record Device(String name, long id, long size, long provisionedBytes, long mappedBlocks,
                         long transaction, int creationTime, int snapTime) {
    }

    /** The space policy in the names {@code thinfs set} takes. */
    public record Settings(int autoextendThreshold, int autoextendPercent, long autoextendMax, String whenFull,
                           String snapshotEvery, String keep, int pruneAt) {
        public static Settings of(SpacePolicy p, SnapshotSchedule s) {
            return new Settings(p.threshold(), p.percent(), p.maxBytes(), p.whenFull().wire(), s.everyText(),
                    s.keep().isEmpty() ? "all" : s.keep(), s.pruneAt());
        }
    }

    /**
     * Builds the report. {@code policy} is the pool's space policy; {@code live}: the figures are the daemon's own,
     * uncommitted changes and the read-only reason included.
     */
    public static PoolStatus of(PoolFileSystem fs, String poolName, boolean mounted, boolean live, SpacePolicy policy,
                                SnapshotSchedule schedule, List<String> servedBy) {
        ThinPool tp = fs.pool();
        PoolUsage u = tp.usage();
        List<Device> volumes = new ArrayList<>();
        Map<String, List<Device>> snaps = new LinkedHashMap<>();
        List<Device> lost = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        fs.readNames((doc, lostDevices) -> {
            doc.volumes.forEach((name, e) -> add(volumes, tp, name, e));
            doc.volumes.forEach((name, e) -> {
                String problem = e.base == null ? null : fs.baseProblem(e.id);
                if (problem != null) {
                    warnings.add("volume " + name + " cannot be opened: " + problem);
                }
            });
            doc.snapshots.forEach((set, s) -> {
                List<Device> l = new ArrayList<>();
                s.volumes.forEach((name, e) -> add(l, tp, name, e));
                snaps.put(set, l);
            });
            lostDevices.forEach((id, e) -> add(lost, tp, "lost+found/dev-" + id, e));
            return null;
        });
        int mark = policy.autoextends() ? policy.threshold() : 95;
        if (u.dataBlocks() > 0 && u.dataBlocksUsed() * 100 >= u.dataBlocks() * mark) {
            warnings.add("data space " + u.dataBlocksUsed() * 100 / u.dataBlocks() + "% used (threshold " + mark
                    + "%)");
        }
        if (u.metadataBlocks() > 0 && u.metadataBlocksUsed() * 100 >= u.metadataBlocks() * mark) {
            warnings.add("metadata space " + u.metadataBlocksUsed() * 100 / u.metadataBlocks() + "% used (threshold "
                    + mark + "%)");
        }
        String readOnly = live ? tp.readOnlyReason() : null;
        if (readOnly != null) {
            warnings.add("the pool is read-only: " + readOnly);
        }
        boolean needsCheck = tp.transaction().needsCheck();
        if (needsCheck) {
            warnings.add("the metadata is flagged NEEDS_CHECK: run 'thinfs check'");
        }
        return new PoolStatus(VERSION, poolName, mounted, live, u.transactionId(), u.time(), u.dataBlockSize(),
                u.dataBlocks(), u.dataBlocksUsed(), u.metadataBlocks(), u.metadataBlocksUsed(),
                live && (fs.isDirty() || tp.transaction().hasUncommittedChanges()), readOnly, needsCheck, tp.transaction().heldMetadataRoot(),
                Settings.of(policy, schedule), warnings, volumes, snaps, lost, servedBy);
    }

    private static void add(List<Device> into, ThinPool tp, String name, Catalog.Entry e) {
        DeviceDetails d;
        try {
            d = tp.maps().details(e.id);
        } catch (NoSuchDeviceException gone) {
            return; // deleted between the names and the details: not there any more
        }
        into.add(new Device(name, e.id, e.size, d.mappedBlocks() * tp.dataBlockSize(), d.mappedBlocks(),
                d.transactionId(), d.creationTime(), d.snapshottedTime()));
    }
}
