package org.thinfs.fs.cli;

import org.thinfs.fs.fuse.MountPaths;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Mounts whose daemon is gone (kill -9, OOM): the kernel still lists them, and every access to them fails with
 * ENOTCONN ("Transport endpoint is not connected"), which without this would read as "not a directory".
 */
final class DeadMounts {
    private static final String ENOTCONN = "Transport endpoint is not connected";

    private DeadMounts() {
    }

    /** Whether {@code mnt} is a mount point whose FUSE daemon is gone. */
    static boolean isDead(Path mnt) {
        try {
            Files.readAttributes(mnt, BasicFileAttributes.class);
            return false;
        } catch (FileSystemException e) {
            return e.getReason() != null && e.getReason().contains(ENOTCONN) && MountTable.isMounted(mnt);
        } catch (IOException e) {
            return false;
        }
    }

    /** Lazily unmounts a dead mount (fusermount -u -z); one sentence when that fails. */
    static void clear(Path mnt) {
        for (String tool : List.of("fusermount", "fusermount3")) {
            try {
                Process p = new ProcessBuilder(tool, "-u", "-z", mnt.toString()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes()).trim();
                if (p.waitFor() == 0) {
                    return;
                }
                throw new Main.UsageError("cannot clear the dead mount on " + mnt + ": " + out);
            } catch (IOException notInstalled) {
                // try the next tool
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Main.UsageError("interrupted while clearing the dead mount on " + mnt);
            }
        }
        throw new Main.UsageError("cannot clear the dead mount on " + mnt + ": fusermount is not installed");
    }

    /** Where pool {@code poolDir} is still listed as mounted (source "thinfs:POOL") although nothing serves it. */
    static List<Path> of(Path poolDir) {
        List<Path> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && MountPaths.unescape(f[0]).equals("thinfs:" + poolDir)) {
                    Path mnt = Path.of(MountPaths.unescape(f[1]));
                    if (isDead(mnt)) {
                        out.add(mnt);
                    }
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** For status of a pool no daemon answers for: what was left behind, or "". */
    static String describe(Path poolDir) {
        List<Path> dead = of(poolDir);
        if (dead.isEmpty()) {
            return "";
        }
        return " (not mounted: its daemon is gone and left a dead mount on " + dead.get(0) + "; 'thinfs mount "
                + poolDir + " " + dead.get(0) + "' clears it and mounts again)";
    }
}
