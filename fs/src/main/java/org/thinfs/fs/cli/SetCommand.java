package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.core.pool.SpacePolicy;
import org.thinfs.fs.control.ControlClient;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.model.PoolSettings;
import org.thinfs.fs.model.SnapshotSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "set", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Change a pool's space policy and snapshot schedule.",
        description = {"NAME=VALUE settings, kept with the pool and shown by status; a mounted pool applies them at once:",
                "  autoextend-threshold=PERCENT  grow a space when this much of it is used (50-100; 100 = off)",
                "  autoextend-percent=PERCENT    grow by this share of its size",
                "  autoextend-max=SIZE           never grow the data space past this (0 = host free space only)",
                "  when-full=error|wait          ENOSPC at once, or hold writers up to 60 s for space",
                "  snapshot-every=DURATION       take auto-YYYYMMDD-HHMMSS of every volume this often (15m, 1h, 1d; off)",
                "  keep=RULE=N,...               prune the auto- sets so (as thinfs prune --keep; all = keep every one)",
                "  prune-at=PERCENT              past this much data or metadata used, remove the oldest unheld auto- set"})
final class SetCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME=VALUE")
    List<String> settings;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        Map<String, String> parsed = parse(settings);
        try (ControlClient c = LivePool.connect(pool)) {
            if (c != null) {
                ObjectNode req = ControlProtocol.request("set");
                ObjectNode s = req.putObject("settings");
                parsed.forEach(s::put);
                c.call(req);
            } else {
                LivePool.offline(pool, () -> PoolSettings.write(pool.dir(), apply(PoolSettings.read(pool.dir()),
                        parsed), applySchedule(PoolSettings.readSchedule(pool.dir()), parsed)));
            }
        }
        System.out.println("set " + String.join(" ", settings) + " on " + dir);
        return 0;
    }

    /** NAME=VALUE list to a map, sizes in bytes; checked against the policy's rules (one sentence each). */
    static Map<String, String> parse(List<String> items) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new Main.UsageError("settings are NAME=VALUE, not '" + item + "'");
            }
            String name = item.substring(0, eq);
            String value = item.substring(eq + 1);
            if (!java.util.Arrays.asList(SpacePolicy.NAMES).contains(name) && !SnapshotSchedule.NAMES.contains(name)) {
                throw new Main.UsageError("unknown setting '" + name + "'; the settings are "
                        + String.join(", ", SpacePolicy.NAMES) + ", " + String.join(", ", SnapshotSchedule.NAMES));
            }
            if (name.equals("autoextend-max")) {
                try {
                    value = Long.toString(Sizes.parse(value));
                } catch (IllegalArgumentException e) {
                    throw new Main.UsageError("autoextend-max: " + e.getMessage());
                }
            }
            out.put(name, value);
        }
        try {
            apply(SpacePolicy.DEFAULT, out);
            applySchedule(SnapshotSchedule.NONE, out);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        return out;
    }

    static SnapshotSchedule applySchedule(SnapshotSchedule s, Map<String, String> settings) {
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (SnapshotSchedule.NAMES.contains(e.getKey())) {
                s = s.with(e.getKey(), e.getValue());
            }
        }
        return s;
    }

    static SpacePolicy apply(SpacePolicy p, Map<String, String> settings) {
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (SnapshotSchedule.NAMES.contains(e.getKey())) {
                continue;
            }
            p = p.with(e.getKey(), e.getValue());
        }
        return p;
    }
}
