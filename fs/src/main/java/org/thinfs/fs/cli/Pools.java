package org.thinfs.fs.cli;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.fuse.HolePuncher;
import org.thinfs.fs.model.PoolFileSystem;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opening pools for the subcommands, with the errors a user can act on. */
final class Pools {
    private Pools() {
    }

    /** A metadata argument: a pool directory (its metadata file) or a bare metadata file. */
    static Path metadataOf(Path arg) {
        if (Files.isDirectory(arg)) {
            Path m = new PoolDir(arg).metadata();
            if (!Files.isRegularFile(m)) {
                throw new Main.UsageError(arg + " is not a thinfs pool (no metadata file in it)");
            }
            return m;
        }
        if (!Files.exists(arg)) {
            throw new Main.UsageError("no such pool or metadata file: " + arg);
        }
        return arg;
    }

    static PoolDir requirePool(Path dir) {
        PoolDir p = new PoolDir(dir);
        for (Path f : new Path[]{p.metadata(), p.data(), dir.resolve("catalog.0.json"), dir.resolve("catalog.1.json")}) {
            if (Files.isSymbolicLink(f)) {
                throw new Main.UsageError("refusing to follow the symbolic link " + f
                        + ": a pool's files must live in its directory");
            }
        }
        if (!p.exists()) {
            throw new Main.UsageError(dir + " is not a thinfs pool (expected " + p.metadata() + " and " + p.data()
                    + "); make one with 'thinfs create'");
        }
        return p;
    }

    static ThinPool open(Path metadata, Path data, boolean readOnly, String name) throws IOException {
        PoolOptions opts = PoolOptions.DEFAULT.withReadOnly(readOnly);
        if (!readOnly) {
            opts = opts.withHolePuncher(new HolePuncher(data));
        }
        try {
            return ThinPool.open(metadata, data, opts);
        } catch (CorruptMetadataException e) {
            throw new ThinfsException("the metadata of " + name + " failed validation (" + e.getMessage()
                    + "); run 'thinfs check " + name + "'", e);
        }
    }

    static PoolFileSystem openFileSystem(PoolDir pool, boolean readOnly) throws IOException {
        ThinPool tp = open(pool.metadata(), pool.data(), readOnly, pool.dir().toString());
        try {
            return PoolFileSystem.open(tp, pool.dir());
        } catch (IOException | RuntimeException e) {
            tp.close();
            throw e;
        }
    }
}
