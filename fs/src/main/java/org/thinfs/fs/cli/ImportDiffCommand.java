package org.thinfs.fs.cli;

import org.thinfs.core.diff.DiffImporter;
import org.thinfs.core.pool.ZeroWrites;
import org.thinfs.fs.model.PoolFileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.thinfs.core.diff.RbdDiff;
import java.util.concurrent.Callable;

@Command(name = "import-diff", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Apply a diff stream to a volume of an unmounted pool.",
        description = "Apply an export-diff stream to a volume of an unmounted pool (the volume is created when "
                + "missing). The whole stream is verified, and every check made, before anything is written: an "
                + "incremental thinfs stream applies only to the volume that received its base (or a clone of it "
                + "made since), an incremental rbd stream only to an existing volume unchanged since its "
                + "from-snapshot; a refusal says that nothing was applied.")
final class ImportDiffCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Parameters(index = "1", paramLabel = "VOLUME")
    String volume;

    @Parameters(index = "2", paramLabel = "IN", description = "A thinfs or rbd diff v1 stream ('-' for stdin).")
    String in;

    @picocli.CommandLine.Option(names = "--snapshot", description = "rbd: once applied, take a snapshot set named "
            + "after the stream's to-snapshot.")
    boolean snapshot;

    @Override
    public Integer call() throws Exception {
        PoolDir pool = Pools.requirePool(dir);
        if (java.nio.file.Files.isRegularFile(pool.dir().resolve("thinfs.pid"))) {
            throw new Main.UsageError("pool " + dir + " is mounted: unmount it first");
        }
        Path spool = null;
        Path file;
        if (in.equals("-")) {
            // A stream has no checksum to trust until it ended: keep all of it before changing anything.
            spool = Files.createTempFile(pool.dir(), ".import-diff.", ".spool");
            Files.copy(System.in, spool, StandardCopyOption.REPLACE_EXISTING);
            file = spool;
        } else {
            file = Path.of(in);
            if (!Files.isRegularFile(file)) {
                throw new Main.UsageError("no such stream file: " + in);
            }
        }
        try {
            if (RbdDiff.isRbdDiff(file)) {
                applyRbd(pool, file);
            } else {
                if (snapshot) {
                    throw new Main.UsageError("--snapshot goes with rbd diff streams, which name their snapshot");
                }
                applyThinfs(pool, file);
            }
        } finally {
            if (spool != null) {
                Files.deleteIfExists(spool);
            }
        }
        System.out.println("applied " + in + " to " + volume);
        return 0;
    }

    private void applyThinfs(PoolDir pool, Path file) throws Exception {
        DiffImporter.Header h = DiffImporter.verify(file);
        try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
            fs.pool().setZeroWrites(ZeroWrites.UNMAP);  // zeros in a stream provision nothing, and unmap whole blocks
            if (h.incremental()) {
                requireBase(fs, h.baseIdentity());
            } else if (h.version() >= 2 && fs.list("/").contains(volume)) {
                // A full stream describes the whole image, but only its data: what the volume held before must go,
                // or the volume would be marked as that image while it still holds other bytes.
                fs.truncate("/" + volume, 0);
            }
            String path = prepare(fs, h.volumeSize());
            PoolFileSystem.Handle target = fs.open(path, true);
            try {
                DiffImporter.apply(file, fs.deviceOf(target));
                fs.dataChanged(target);
                fs.setReceived(target, h.targetIdentity());
            } catch (RuntimeException | java.io.IOException e) {
                fs.dataChanged(target);
                throw e;
            } finally {
                fs.release(target);
            }
        }
    }

    /**
     * An incremental thinfs stream describes the changes from one image (its base identity) to another: applied
     * anywhere else it gives bytes that match neither. The volume must hold exactly that image: it received it
     * (or is a clone or snapshot-restore of one that did) and nothing wrote it since.
     */
    private void requireBase(PoolFileSystem fs, String base) {
        if (fs.list("/").stream().noneMatch(volume::equals)) {
            throw new Main.UsageError("nothing was applied: the stream is incremental from image " + base + ", and "
                    + volume + " does not exist; import the stream that ends at that image first");
        }
        String received = fs.received(volume);
        if (!base.equals(received)) {
            throw new Main.UsageError("nothing was applied: the stream is incremental from image " + base + ", but "
                    + volume + (received == null ? " was not received from it, or was written since"
                    : " holds image " + received));
        }
    }

    private void applyRbd(PoolDir pool, Path file) throws Exception {
        try (PoolFileSystem fs = Pools.openFileSystem(pool, false)) {
            applyRbd(fs, volume, file, snapshot);
        }
    }

    /**
     * Applies verified rbd stream {@code file} to {@code volume} of {@code fs} (created when missing), refusing an
     * incremental stream whose from-snapshot the volume changed since; {@code snapshot}: then take (or join) the
     * snapshot set named after the stream's to-snapshot. Shared by import-diff and receive.
     */
    static RbdDiff.Header applyRbd(PoolFileSystem fs, String volume, Path file, boolean snapshot) throws Exception {
        RbdDiff.Header h = RbdDiff.verify(file);
        if (snapshot && h.toSnap() == null) {
            throw new Main.UsageError("--snapshot: the stream names no to-snapshot");
        }
        fs.pool().setZeroWrites(ZeroWrites.UNMAP);
        if (h.fromSnap() != null) {
            if (fs.list("/").stream().noneMatch(volume::equals)) {
                throw new Main.UsageError("nothing was applied: the stream is incremental from snapshot "
                        + h.fromSnap() + ", and " + volume + " does not exist; import the stream that ends at "
                        + h.fromSnap() + " first");
            }
            requireFromSnap(fs, volume, h.fromSnap());
        }
        boolean setExists = snapshot && fs.list("/snapshots").contains(h.toSnap());
        if (setExists && fs.list("/snapshots/" + h.toSnap()).contains(volume)) {
            throw new Main.UsageError("nothing was applied: snapshot set " + h.toSnap() + " already holds "
                    + volume + ", so this stream was applied before");
        }
        String path = prepare(fs, volume, h.size());
        PoolFileSystem.Handle target = fs.open(path, true);
        try {
            RbdDiff.apply(file, fs.deviceOf(target));
        } finally {
            fs.dataChanged(target);
            fs.release(target);
        }
        if (setExists) {
            fs.snapshotInto(h.toSnap(), volume);     // another volume's import made the set: join it
        } else if (snapshot) {
            fs.snapshot(h.toSnap(), java.util.List.of(volume));   // this volume only, as rbd snaps one image
        }
        return h;
    }

    /**
     * An incremental stream applies on top of its from-snapshot. When the pool knows it (a snapshot set of that
     * name holding the volume, as {@code --snapshot} leaves behind), the volume must not have changed since.
     */
    static void requireFromSnap(PoolFileSystem fs, String volume, String from) {
        if (!fs.list("/snapshots").contains(from) || !fs.list("/snapshots/" + from).contains(volume)) {
            return;
        }
        if (fs.list("/").stream().noneMatch(volume::equals)) {
            throw new Main.UsageError("the stream is incremental from snapshot " + from + ", but " + volume
                    + " does not exist: import the stream that ends at " + from + " first");
        }
        long snap = fs.resolve("snapshots/" + from + "/" + volume).id;
        long vol = fs.resolve(volume).id;
        long end = fs.pool().lastMappedBlock(vol) + 1;
        long[] differ = {0};
        org.thinfs.core.diff.BlockDelta.scan(fs.pool(), snap, vol, Math.max(end,
                fs.pool().lastMappedBlock(snap) + 1), (first, count, kind) -> differ[0] += count);
        if (differ[0] > 0) {
            throw new Main.UsageError("nothing was applied: " + volume + " changed since snapshot " + from + " ("
                    + differ[0]
                    + " blocks differ): this stream, incremental from " + from + ", would not give the image it "
                    + "describes; roll back with 'ln snapshots/" + from + "/" + volume + " ...' first");
        }
    }

    /** Creates the volume when missing and sets its size. */
    private String prepare(PoolFileSystem fs, long size) {
        return prepare(fs, volume, size);
    }

    static String prepare(PoolFileSystem fs, String volume, long size) {
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
