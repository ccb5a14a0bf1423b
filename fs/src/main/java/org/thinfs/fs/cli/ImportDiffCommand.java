package org.thinfs.fs.cli;

import org.thinfs.core.diff.DiffImporter;
import org.thinfs.core.pool.ZeroWrites;
import org.thinfs.fs.model.Handle;
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
            Handle target = fs.open(path, true);
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
            org.thinfs.fs.rbd.RbdImport.apply(fs, volume, file, snapshot);
        } catch (org.thinfs.fs.rbd.RbdImport.Refused e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /** Creates the volume when missing and sets its size. */
    private String prepare(PoolFileSystem fs, long size) {
        return org.thinfs.fs.rbd.RbdImport.prepare(fs, volume, size);
    }
}
