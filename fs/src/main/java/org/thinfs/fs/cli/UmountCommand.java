package org.thinfs.fs.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

@Command(name = "umount", mixinStandardHelpOptions = true,
        description = "Unmount a pool and wait until the daemon has committed and closed it.")
final class UmountCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT")
    Path mountPoint;

    @Override
    public Integer call() throws Exception {
        Path mnt = mountPoint.toAbsolutePath().normalize();
        Optional<String> source = MountTable.source(mnt);
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
}
