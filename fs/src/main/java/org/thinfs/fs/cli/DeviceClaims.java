package org.thinfs.fs.cli;

import org.thinfs.core.io.Devices;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exclusive claim on a pool's block devices, as the kernel gives it: {@code open(O_EXCL)} of a block device
 * fails with EBUSY while the kernel (a mounted file system, dm, md) or another process holds it exclusively, and
 * keeps them all out while it is open. Taken before a pool on devices is opened for writing, and held (the
 * descriptor left open) until this process ends, which is the pool's life for a daemon and for a command alike. A
 * refusal names the holder and happens before any byte is touched. Files keep the pool directory's lock instead.
 */
final class DeviceClaims {
    /** libc's open(2) and close(2), through jnr-ffi (which jnr-fuse brings). */
    public interface LibC {
        int open(String path, int flags);

        int close(int fd);
    }

    private static final int O_RDONLY = 0;
    private static final int O_EXCL = 0200;
    private static final int O_CLOEXEC = 02000000;
    private static final int EBUSY = 16;
    private static final Map<Path, Integer> HELD = new ConcurrentHashMap<>();
    private static volatile LibC libc;

    private DeviceClaims() {
    }

    /** Claims {@code device} for this process (a second claim of the same device is a no-op); files are ignored. */
    static void claim(Path device) throws IOException {
        if (!Devices.isBlockDevice(device)) {
            return;
        }
        Path real = device.toRealPath();
        if (HELD.containsKey(real)) {
            return;
        }
        int fd = lib().open(real.toString(), O_RDONLY | O_EXCL | O_CLOEXEC);
        if (fd < 0) {
            int errno = jnr.ffi.Runtime.getSystemRuntime().getLastError();
            if (errno == EBUSY) {
                throw new Main.UsageError(device + " is in use by " + holder(real) + "; thinfs touched nothing");
            }
            throw new IOException("cannot claim " + device + " (errno " + errno + ")");
        }
        HELD.put(real, fd);
    }

    private static LibC lib() {
        LibC l = libc;
        if (l == null) {
            l = jnr.ffi.LibraryLoader.create(LibC.class).load("c");
            libc = l;
        }
        return l;
    }

    /** Who holds {@code dev}: device-mapper or md devices over it, a mount of it, or another process. */
    static String holder(Path dev) {
        String name = dev.getFileName().toString();
        List<String> who = new ArrayList<>();
        try (var s = Files.list(Path.of("/sys/class/block", name, "holders"))) {
            s.forEach(h -> who.add(h.getFileName().toString() + " (/sys/class/block/" + name + "/holders)"));
        } catch (IOException ignored) {
            // no holders directory: not a kernel holder
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 1 && f[0].equals(dev.toString())) {
                    who.add("the file system mounted on " + f[1]);
                }
            }
        } catch (IOException ignored) {
            // no mount table to read
        }
        return who.isEmpty() ? "another process that opened it exclusively (a mounted thinfs pool, mkfs, ...)"
                : String.join(", ", who);
    }
}
