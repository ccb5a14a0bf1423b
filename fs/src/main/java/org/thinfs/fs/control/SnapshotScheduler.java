package org.thinfs.fs.control;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.pool.PoolEvent;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.model.Retention;
import org.thinfs.fs.model.SnapshotSchedule;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The daemon's side of a {@link SnapshotSchedule}, run once a second: takes {@code auto-YYYYMMDD-HHMMSS} of every
 * volume when the newest automatic set is {@code every} old, then prunes the automatic sets by {@code keep}; and
 * while data or metadata use is at {@code prune-at} percent or more, removes the oldest unheld automatic set (one a
 * tick, so the space freed is seen before the next goes). Each set taken or removed is an event. Only sets named
 * {@code auto-*} are ever removed here, and never a held one.
 */
final class SnapshotScheduler {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotScheduler.class);
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private final PoolFileSystem fs;
    private final Consumer<PoolEvent> events;
    private final Clock clock;
    private volatile SnapshotSchedule schedule;

    SnapshotScheduler(PoolFileSystem fs, SnapshotSchedule schedule, Consumer<PoolEvent> events, Clock clock) {
        this.fs = fs;
        this.schedule = schedule;
        this.events = events;
        this.clock = clock;
    }

    SnapshotSchedule schedule() {
        return schedule;
    }

    void setSchedule(SnapshotSchedule s) {
        schedule = s;
        LOG.info("snapshot schedule: every {}, keep {}, prune at {}%", s.everyText(), s.keep().isEmpty() ? "all"
                : s.keep(), s.pruneAt());
    }

    /** One look at the clock and the space; failures are logged and tried again at the next tick. */
    void tick() {
        SnapshotSchedule s = schedule;
        try {
            if (!s.every().isZero() && !fs.pool().isReadOnly()) {
                takeIfDue(s);
            }
            if (s.pruneAt() > 0 && !fs.pool().isReadOnly()) {
                pruneForSpace(s.pruneAt());
            }
        } catch (RuntimeException e) {
            LOG.warn("scheduled snapshot work failed: {}", e.getMessage());
        }
    }

    /** The automatic sets: name → creation time (ms), and whether each is held. */
    private Map<String, long[]> automaticSets() {
        return fs.readNames((doc, lost) -> {
            Map<String, long[]> out = new TreeMap<>();
            doc.snapshots.forEach((name, set) -> {
                if (name.startsWith(SnapshotSchedule.PREFIX)) {
                    out.put(name, new long[]{set.created, set.holds == null || set.holds.isEmpty() ? 0 : 1});
                }
            });
            return out;
        });
    }

    private void takeIfDue(SnapshotSchedule s) {
        long now = clock.millis();
        Map<String, long[]> auto = automaticSets();
        long newest = auto.values().stream().mapToLong(v -> v[0]).max().orElse(Long.MIN_VALUE);
        boolean anyVolume = fs.readNames((doc, lost) -> !doc.volumes.isEmpty());
        if (!anyVolume || newest != Long.MIN_VALUE && now - newest < s.every().toMillis()) {
            return;
        }
        ZoneId zone = clock.getZone();
        String name = SnapshotSchedule.PREFIX + NAME.format(Instant.ofEpochMilli(now).atZone(zone));
        if (auto.containsKey(name)) {
            return;                                    // one this second already
        }
        fs.snapshots().take(name, List.of(), "taken every " + s.everyText(), "auto", null);
        events.accept(PoolEvent.of(PoolEvent.Kind.SNAPSHOT, "took snapshots/" + name + " (every " + s.everyText()
                + ")"));
        if (!s.keep().isEmpty()) {
            var plan = fs.snapshots().prune(Retention.parse(s.keep()), SnapshotSchedule.PREFIX + "*", false, zone);
            for (String removed : plan.remove()) {
                events.accept(PoolEvent.of(PoolEvent.Kind.PRUNED, "removed snapshots/" + removed + " (keep "
                        + s.keep() + ")"));
            }
        }
    }

    private void pruneForSpace(int pruneAt) {
        PoolUsage u = fs.pool().usage();
        long data = u.dataBlocksUsed() * 100 / Math.max(1, u.dataBlocks());
        long meta = u.metadataBlocksUsed() * 100 / Math.max(1, u.metadataBlocks());
        if (Math.max(data, meta) < pruneAt) {
            return;
        }
        String oldest = null;
        long oldestTime = Long.MAX_VALUE;
        for (Map.Entry<String, long[]> e : automaticSets().entrySet()) {
            if (e.getValue()[1] == 0 && e.getValue()[0] < oldestTime) {
                oldest = e.getKey();
                oldestTime = e.getValue()[0];
            }
        }
        if (oldest == null) {
            return;
        }
        fs.snapshots().remove(oldest);
        events.accept(PoolEvent.of(PoolEvent.Kind.PRUNED, "removed snapshots/" + oldest + ": data " + data
                + "% and metadata " + meta + "% used, prune-at " + pruneAt + "%"));
    }
}
