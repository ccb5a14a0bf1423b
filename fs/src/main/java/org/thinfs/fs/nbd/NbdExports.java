package org.thinfs.fs.nbd;

import org.thinfs.fs.model.FsException;
import org.thinfs.fs.model.PoolFileSystem;

import java.util.ArrayList;
import java.util.List;

/**
 * Which names an NBD client may ask for: each volume by its name, {@code snapshots/SET/VOLUME} read-only, and a
 * foreign pool's {@code dev-ID} (top-level volumes there). Resolved through the same model as the FUSE mount, so
 * both see the same volumes.
 */
final class NbdExports {
    private final PoolFileSystem fs;
    private final org.thinfs.fs.metrics.RequestStats stats;

    NbdExports(PoolFileSystem fs, org.thinfs.fs.metrics.RequestStats stats) {
        this.fs = fs;
        this.stats = stats;
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
    record Export(String name, PoolFileSystem.Handle handle, long size, boolean readOnly, long namesAtOpen) {
    }

    List<String> names() {
        return fs.readNames((doc, lost) -> {
            List<String> out = new ArrayList<>(doc.volumes.keySet());
            doc.snapshots.forEach((set, s) -> s.volumes.keySet().forEach(v -> out.add("snapshots/" + set + "/" + v)));
            return out;
        });
    }

    /** Opens {@code name}, or null when there is no such export. */
    Export open(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.contains("//") || name.startsWith("lost+found")) {
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
            PoolFileSystem.Handle h = fs.open(path, !snapshot);
            return new Export(name, h, a.size(), h.readOnly(), names);
        } catch (FsException e) {
            return null;
        }
    }
}
