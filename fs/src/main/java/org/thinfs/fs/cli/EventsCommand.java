package org.thinfs.fs.cli;

import org.thinfs.fs.control.ControlClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "events", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Stream a mounted pool's events as JSON lines.",
        description = "One JSON object per line: threshold, extended, out-of-space, read-only, needs-check, "
                + "commit-failed (docs/CONTROL.md). Runs until interrupted or the pool is unmounted.")
final class EventsCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        try (ControlClient c = LivePool.connect(pool)) {
            if (c == null) {
                throw new IllegalStateException("pool " + dir + " is not mounted: events come from its daemon");
            }
            c.events(line -> {
                System.out.println(line);
                System.out.flush();
                return !System.out.checkError();
            });
        }
        return 0;
    }
}
