package org.thinfs.fs.rbd;

import org.thinfs.fs.model.PoolFileSystem;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code thinfs receive}: every snapshot of an RBD image newer than the newest one VOLUME has as a snapshot set is
 * exported ({@code rbd export-diff --from-snap}), spooled whole (an rbd stream has no checksum: it is read to its end
 * before anything changes) and applied as import-diff --snapshot applies it, in order; the head last when asked, with
 * no snapshot. A volume written since the common snapshot is refused, unless {@code force} rolls it back first. Runs
 * on an open pool: the offline command's, or the daemon's for a mounted one.
 *
 * @param spoolDir where streams are spooled (the pool directory: same file system, removed after)
 */
public record RbdReceive(RbdTool rbd, String image, String volume, boolean head, boolean force, Path spoolDir) {

    /** What came: the snapshot sets made, and whether the head came too. */
    public record Result(List<String> snapshots, boolean head) {
    }

    public Result run(PoolFileSystem fs, Consumer<String> progress) throws IOException {
        List<String> remote = rbd.snapshots(image);
        String since = null;
        List<String> sets = fs.list("/snapshots");
        for (String r : remote) {
            if (sets.contains(r) && fs.list("/snapshots/" + r).contains(volume)) {
                since = r;
            }
        }
        if (since != null && force) {
            fs.snapshots().rollback(since, List.of(volume), true, null);
        }
        List<String> todo = since == null ? remote : remote.subList(remote.indexOf(since) + 1, remote.size());
        List<String> done = new ArrayList<>();
        Path spool = Files.createTempFile(spoolDir, ".receive.", ".spool");
        try {
            String from = since;
            for (String snap : todo) {
                fetch(from, image + "@" + snap, spool);
                RbdImport.apply(fs, volume, spool, true);
                progress.accept(snap + (from == null ? " (full)" : " (since " + from + ")"));
                done.add(snap);
                from = snap;
            }
            if (head) {
                fetch(from, image, spool);
                RbdImport.apply(fs, volume, spool, false);
                progress.accept("the image's head");
            }
        } finally {
            Files.deleteIfExists(spool);
        }
        return new Result(done, head);
    }

    private void fetch(String from, String spec, Path spool) throws IOException {
        String[] args = from == null ? new String[] {"export-diff", "--no-progress", spec, "-"}
                : new String[] {"export-diff", "--no-progress", "--from-snap", from, spec, "-"};
        rbd.drainTo(in -> Files.copy(in, spool, StandardCopyOption.REPLACE_EXISTING), args);
    }
}
