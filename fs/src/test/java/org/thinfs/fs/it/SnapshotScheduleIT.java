package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's snapshot schedule through a real mount and `thinfs events`: snapshot-every takes auto- sets and keep
 * prunes them (an event for each); prune-at removes the oldest unheld automatic sets when a pool filled by fio passes
 * it, never a held one and never a set the schedule did not name; the schedule survives a remount.
 */
class SnapshotScheduleIT {
    @TempDir
    Path tmp;

    private static List<String> autoSets(MountedPool p) throws Exception {
        return Arrays.stream(p.sh("ls snapshots").ok().out().split("\n")).filter(s -> s.startsWith("auto-")).toList();
    }

    private static void awaitEvents(Path events, String what, int count) throws Exception {
        long end = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < end) {
            String s = Files.exists(events) ? Files.readString(events) : "";
            if (s.split("\"event\":\"" + what + "\"", -1).length - 1 >= count) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("fewer than " + count + " '" + what + "' events in 30 s:\n" + Files.readString(events));
    }

    @Test
    void scheduledSetsArePrunedByKeepAndByPruneAt() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            Path events = tmp.resolve("events.jsonl");
            Process stream = new ProcessBuilder("java", "-jar", MountedPool.JAR.toString(), "events",
                    p.pool.toString()).redirectOutput(events.toFile()).redirectErrorStream(false).start();
            try {
                p.sh("truncate -s 200M vm").ok();
                p.thinfs("set", p.pool.toString(), "snapshot-every=1s", "keep=last=2").ok();
                awaitEvents(events, "snapshot", 4);
                awaitEvents(events, "pruned", 2);
                p.thinfs("set", p.pool.toString(), "snapshot-every=off").ok();
                Thread.sleep(1500);                                 // a tick in flight finishes
                assertEquals(2, autoSets(p).size(), "keep=last=2 left " + autoSets(p));
                String settings = p.thinfs("status", p.pool.toString(), "--json").ok().out();
                assertTrue(settings.contains("\"snapshotEvery\" : \"off\"") && settings.contains("\"keep\" : \"last=2\""),
                        settings);

                // prune-at: 100 MiB held only by the automatic sets, then overwritten, passes 50% of 256 MiB.
                String held = autoSets(p).get(0);
                p.thinfs("hold", p.pool.toString(), held, "keep").ok();
                p.thinfs("snapshot", p.pool.toString(), "manual").ok();
                String fio = "fio --name=fill --filename=vm --rw=write --bs=1M --size=100M --refill_buffers "
                        + "--ioengine=psync --end_fsync=1 >/dev/null";
                p.sh(fio).ok();
                p.thinfs("snapshot", p.pool.toString(), "auto-late").ok();
                p.sh(fio).ok();
                p.thinfs("set", p.pool.toString(), "prune-at=50").ok();
                awaitEvents(events, "pruned", 4);
                Thread.sleep(1500);
                assertEquals(List.of(held), autoSets(p), "prune-at removes every unheld automatic set it needs to");
                assertTrue(p.sh("ls snapshots").ok().out().contains("manual\n"), "a set the schedule did not name");
                assertTrue(Files.readString(events).contains("prune-at 50%"), Files.readString(events));
            } finally {
                stream.destroy();
            }
            p.unmount();
            assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("prune at 50%"),
                    "the schedule is kept with the pool");
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check");
        }
    }
}
