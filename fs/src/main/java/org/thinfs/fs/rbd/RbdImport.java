package org.thinfs.fs.rbd;

import org.thinfs.core.diff.BlockDelta;
import org.thinfs.core.diff.RbdDiff;
import org.thinfs.core.pool.ZeroWrites;
import org.thinfs.fs.model.Handle;
import org.thinfs.fs.model.PoolFileSystem;

import java.nio.file.Path;

/**
 * Applies an rbd diff v1 stream to a volume, with the checks that keep it from giving an image the stream does not
 * describe; shared by {@code import-diff}, {@code receive} and the daemon's receive. Every refusal comes before
 * anything is written and is one sentence ({@link Refused}).
 */
public final class RbdImport {
    private RbdImport() {
    }

    /** A stream that must not be applied here; nothing was. */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message);
        }
    }

    /**
     * Applies verified rbd stream {@code file} to {@code volume} of {@code fs} (created when missing), refusing an
     * incremental stream whose from-snapshot the volume changed since; {@code snapshot}: then take (or join) the
     * snapshot set named after the stream's to-snapshot. Shared by import-diff and receive.
     */
    public static RbdDiff.Header apply(PoolFileSystem fs, String volume, Path file, boolean snapshot)
            throws java.io.IOException {
        RbdDiff.Header h = RbdDiff.verify(file);
        if (snapshot && h.toSnap() == null) {
            throw new Refused("--snapshot: the stream names no to-snapshot");
        }
        fs.pool().setZeroWrites(ZeroWrites.UNMAP);
        if (h.fromSnap() != null) {
            if (fs.list("/").stream().noneMatch(volume::equals)) {
                throw new Refused("nothing was applied: the stream is incremental from snapshot "
                        + h.fromSnap() + ", and " + volume + " does not exist; import the stream that ends at "
                        + h.fromSnap() + " first");
            }
            requireFromSnap(fs, volume, h.fromSnap());
        }
        boolean setExists = snapshot && fs.list("/snapshots").contains(h.toSnap());
        if (setExists && fs.list("/snapshots/" + h.toSnap()).contains(volume)) {
            throw new Refused("nothing was applied: snapshot set " + h.toSnap() + " already holds "
                    + volume + ", so this stream was applied before");
        }
        String path = prepare(fs, volume, h.size());
        Handle target = fs.open(path, true);
        try {
            RbdDiff.apply(file, fs.deviceOf(target));
        } finally {
            fs.dataChanged(target);
            fs.changedBehindCaches(target);
            fs.release(target);
        }
        if (setExists) {
            fs.snapshots().addTo(h.toSnap(), volume);     // another volume's import made the set: join it
        } else if (snapshot) {
            fs.snapshots().take(h.toSnap(), java.util.List.of(volume));   // this volume only, as rbd snaps one image
        }
        return h;
    }

    /**
     * An incremental stream applies on top of its from-snapshot. When the pool knows it (a snapshot set of that
     * name holding the volume, as {@code --snapshot} leaves behind), the volume must not have changed since.
     */
    public static void requireFromSnap(PoolFileSystem fs, String volume, String from) {
        if (!fs.list("/snapshots").contains(from) || !fs.list("/snapshots/" + from).contains(volume)) {
            return;
        }
        if (fs.list("/").stream().noneMatch(volume::equals)) {
            throw new Refused("the stream is incremental from snapshot " + from + ", but " + volume
                    + " does not exist: import the stream that ends at " + from + " first");
        }
        long snap = fs.resolve("snapshots/" + from + "/" + volume).id;
        long vol = fs.resolve(volume).id;
        long end = fs.pool().maps().lastMappedBlock(vol) + 1;
        long[] differ = {0};
        BlockDelta.scan(fs.pool(), snap, vol, Math.max(end,
                fs.pool().maps().lastMappedBlock(snap) + 1), (first, count, kind) -> differ[0] += count);
        if (differ[0] > 0) {
            throw new Refused("nothing was applied: " + volume + " changed since snapshot " + from + " ("
                    + differ[0]
                    + " blocks differ): this stream, incremental from " + from + ", would not give the image it "
                    + "describes; roll back with 'ln snapshots/" + from + "/" + volume + " ...' first");
        }
    }

    /** Creates the volume when missing and sets its size. */
    public static String prepare(PoolFileSystem fs, String volume, long size) {
        String path = "/" + volume;
        if (fs.list("/").stream().noneMatch(volume::equals)) {
            fs.createVolume(path, 0644);
        }
        if (size > 0) {
            fs.truncate(path, size);
        }
        return path;
    }
}
