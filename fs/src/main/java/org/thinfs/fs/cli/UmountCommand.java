package org.thinfs.fs.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

@Command(name = "umount", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = {"Unmount a pool and wait until the daemon has committed and closed it.",
                "Given a pool directory served with 'thinfs serve', stops that daemon the same way."})
final class UmountCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT|POOL")
    Path mountPoint;

    @Override
    public Integer call() throws Exception {
        Path mnt = mountPoint.toAbsolutePath().normalize();
        Optional<String> source = MountTable.source(mnt);
        if (source.isEmpty() && (Files.isRegularFile(mnt.resolve("metadata"))
                || Files.isRegularFile(mnt.resolve(PoolDir.DEVICES)))) {
            return stopServer(mnt); // a pool directory: stop its 'thinfs serve' daemon
        }
        if (source.isEmpty()) {
            throw new Main.UsageError(mnt + " is not mounted");
        }
        Optional<ProcessHandle> daemon = Optional.empty();
        String src = source.get();
        if (src.startsWith("thinfs:")) {
            Path pid = Path.of(src.substring("thinfs:".length())).resolve("thinfs.pid");
            if (Files.isRegularFile(pid)) {
                daemon = ProcessHandle.of(Long.parseLong(Files.readString(pid).trim()));
            }
        }
        Process p = new ProcessBuilder("fusermount", "-u", mnt.toString()).inheritIO().start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("fusermount -u " + mnt + " failed (is a file in it still open?)");
        }
        if (daemon.isPresent()) {
            daemon.get().onExit().get(120, TimeUnit.SECONDS);
        }
        System.out.println("unmounted " + mnt);
        return 0;
    }

    /** Stops the daemon of a pool served with 'thinfs serve': SIGTERM, then waits for it to commit and exit. */
    private static int stopServer(Path pool) throws Exception {
        Path pid = pool.resolve("thinfs.pid");
        Optional<ProcessHandle> daemon = Files.isRegularFile(pid)
                ? ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())) : Optional.empty();
        if (daemon.isEmpty() || !daemon.get().isAlive()) {
            throw new Main.UsageError("pool " + pool + " is neither mounted nor served");
        }
        daemon.get().destroy();
        daemon.get().onExit().get(120, TimeUnit.SECONDS);
        System.out.println("stopped the server of " + pool + "; pool committed and closed");
        return 0;
    }
}
