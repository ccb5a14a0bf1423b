package org.thinfs.fs.nbd;

import org.thinfs.fs.model.FsException;
import org.thinfs.fs.model.Handle;
import org.thinfs.fs.model.PoolFileSystem;

import java.util.ArrayList;
import java.util.List;

/**
 * Which names an NBD client may ask for: each volume by its name, {@code snapshots/SET/VOLUME} read-only, and a
 * foreign pool's {@code dev-ID} (top-level volumes there). Resolved through the same model as the FUSE mount, so
 * both see the same volumes.
 */
final class NbdExports {
    /**
     * Payload bytes in flight over all connections, held in direct buffers: past it, a request waits a little, then
     * gets NBD_ENOMEM (never an OutOfMemoryError). Half the JVM's direct memory, at most 256 MiB, at least one
     * request of the largest size.
     */
    static final int PAYLOAD_BUDGET = (int) Math.max(Nbd.MAX_PAYLOAD, Math.min(256L << 20, maxDirectMemory() / 2));

    private static long maxDirectMemory() {
        for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:MaxDirectMemorySize=")) {
                String v = arg.substring(arg.indexOf('=') + 1).toLowerCase(java.util.Locale.ROOT);
                int shift = v.endsWith("k") ? 10 : v.endsWith("m") ? 20 : v.endsWith("g") ? 30 : 0;
                try {
                    return Long.parseLong(shift == 0 ? v : v.substring(0, v.length() - 1)) << shift;
                } catch (NumberFormatException e) {
                    break;
                }
            }
        }
        return Runtime.getRuntime().maxMemory();
    }

    private final PoolFileSystem fs;
    private final org.thinfs.fs.metrics.RequestStats stats;
    private final List<java.nio.file.PathMatcher> allowed = new ArrayList<>();
    private final boolean readOnly;
    private final java.util.concurrent.Semaphore payload = new java.util.concurrent.Semaphore(PAYLOAD_BUDGET);

    /**
     * {@code globs}: the export names shown and opened (empty: all); {@code readOnly}: every export read-only.
     */
    NbdExports(PoolFileSystem fs, org.thinfs.fs.metrics.RequestStats stats, List<String> globs, boolean readOnly) {
        this.fs = fs;
        this.stats = stats;
        this.readOnly = readOnly;
        for (String g : globs) {
            allowed.add(java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + g));
        }
    }

    private final PayloadBuffers buffers = new PayloadBuffers();

    /** The server's reused payload and reply buffers. */
    PayloadBuffers buffers() {
        return buffers;
    }

    /** The server-wide budget of payload bytes in flight (see PAYLOAD_BUDGET). */
    java.util.concurrent.Semaphore payloadBudget() {
        return payload;
    }

    /** Whether --export lets clients see and open {@code name}. */
    private boolean shown(String name) {
        if (allowed.isEmpty()) {
            return true;
        }
        java.nio.file.Path p;
        try {
            p = java.nio.file.Path.of(name);
        } catch (java.nio.file.InvalidPathException bad) {
            return false;
        }
        return allowed.stream().anyMatch(m -> m.matches(p));
    }

    /** Where every connection counts its requests. */
    org.thinfs.fs.metrics.RequestStats stats() {
        return stats;
    }

    PoolFileSystem fs() {
        return fs;
    }

    /**
     * An opened export: the volume's handle and its size when opened (fixed for the connection), and the
     * namespace's name-removal count read before the name was looked up (see PoolFileSystem#stillNamed).
     */
    record Export(String name, Handle handle, long size, boolean readOnly, long namesAtOpen) {
    }

    List<String> names() {
        return fs.readNames((doc, lost) -> {
            List<String> out = new ArrayList<>(doc.volumes.keySet());
            doc.snapshots.forEach((set, s) -> s.volumes.keySet().forEach(v -> out.add("snapshots/" + set + "/" + v)));
            out.removeIf(n -> !shown(n));
            return out;
        });
    }

    /** Opens {@code name}, or null when there is no such export. */
    Export open(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.contains("//") || name.startsWith("lost+found")
                || name.contains("\0") || !shown(name)) {
            return null;
        }
        String path = "/" + name;
        boolean snapshot = name.startsWith("snapshots/");
        long names = fs.nameRemovals();
        try {
            PoolFileSystem.Attr a = fs.getattr(path);
            if (a.directory()) {
                return null;
            }
            Handle h = fs.open(path, !snapshot && !readOnly);
            return new Export(name, h, a.size(), h.readOnly() || readOnly, names);
        } catch (FsException e) {
            return null;
        }
    }
}
