package org.thinfs.fs.cli;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.format.Layout;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.core.thin.ThinMetadata;
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
            if (!Files.isRegularFile(m) && !org.thinfs.core.io.Devices.isBlockDevice(m)) {
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
        refuseUnfinishedCreate(dir);
        PoolDir p = new PoolDir(dir);
        for (Path f : new Path[]{p.metadata(), p.data(), dir.resolve("catalog.0.json"), dir.resolve("catalog.1.json"),
                dir.resolve("times.0.json"), dir.resolve("times.1.json")}) {
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

    /** A create that crashed leaves its building folder (CreateCommand#build) and nothing else: name it. */
    static void refuseUnfinishedCreate(Path dir) {
        Path inside = dir.resolve(CreateCommand.BUILDING);
        Path beside = dir.toAbsolutePath().resolveSibling("." + dir.getFileName() + CreateCommand.BUILDING);
        for (Path left : new Path[]{inside, beside}) {
            if (Files.exists(left, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new Main.UsageError("an unfinished 'thinfs create' of " + dir + " left " + left
                        + " (it holds no pool anyone used); remove it with: rm -r '" + left + "'");
            }
        }
    }

    /** Removes a folder this process made and everything in it, never following links. */
    static void deleteTree(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Metadata cache of a pool opened by a command: the engine's default, 64 MiB. */
    static final long DEFAULT_CACHE_BYTES = (long) PoolOptions.DEFAULT.cacheBlocks() * Layout.BLOCK_SIZE;

    static ThinPool open(Path metadata, Path data, boolean readOnly, String name) throws IOException {
        return open(metadata, data, readOnly, name, DEFAULT_CACHE_BYTES, false);
    }

    /**
     * Opens a pool's files. {@code ownDataFile}: the data file is a thinfs pool directory's regular file, so holes
     * punched in it read as zeros and fresh blocks need no zero fill (PoolOptions#zeroHoles); never for a foreign
     * pool's data, which may be a device.
     */
    static ThinPool open(Path metadata, Path data, boolean readOnly, String name, long cacheBytes,
                         boolean ownDataFile) throws IOException {
        return open(metadata, data, readOnly, name, cacheBytes, ownDataFile, false);
    }

    /** As above; {@code direct}: the data device is read and written with O_DIRECT (DirectDataFile). */
    static ThinPool open(Path metadata, Path data, boolean readOnly, String name, long cacheBytes,
                         boolean ownDataFile, boolean direct) throws IOException {
        if (direct && !org.thinfs.core.io.Devices.isBlockDevice(data)) {
            throw new Main.UsageError("direct I/O is for pools on block devices, and " + data + " is a file");
        }
        PoolOptions opts = PoolOptions.DEFAULT.withReadOnly(readOnly).withCacheBlocks(cacheBlocks(cacheBytes));
        if (!readOnly) {
            DeviceClaims.claim(metadata);                  // block devices only; before any byte is read
            DeviceClaims.claim(data);
            HolePuncher puncher = new HolePuncher(data);
            opts = ownDataFile && Files.isRegularFile(data) ? opts.withZeroHoles(puncher)
                    : opts.withHolePuncher(puncher);
        }
        try {
            if (direct) {
                org.thinfs.core.io.FileBlockDevice dev = org.thinfs.core.io.FileBlockDevice.open(metadata, !readOnly);
                org.thinfs.core.pool.DataStore store;
                try {
                    store = org.thinfs.core.pool.DirectDataFile.open(data, !readOnly);
                } catch (IOException e) {
                    dev.close();
                    throw e;
                }
                return ThinPool.open(dev, store, metadata, opts);
            }
            return ThinPool.open(metadata, data, opts);
        } catch (CorruptMetadataException e) {
            throw failedValidation(name, e);
        }
    }

    private static int cacheBlocks(long cacheBytes) {
        long blocks = cacheBytes / Layout.BLOCK_SIZE;
        if (blocks < 64 || blocks > Integer.MAX_VALUE) {
            throw new Main.UsageError("the metadata cache must be at least 256k, not " + cacheBytes + " bytes");
        }
        return (int) blocks;
    }

    /**
     * The daemon's Java heap limit for a pool: its metadata cache, the in-memory reference counts of both space
     * maps (a byte per block; the data file's size over the smallest block size bounds the data blocks), and room
     * for everything else; at least 384 MiB, the limit the daemon always ran with, kept as headroom for garbage
     * (the cache stays bounded inside an operation too: BlockManager evicts clean blocks as it goes). The heap
     * grows towards the limit only as garbage needs; steady state is the cache plus the counts.
     */
    static long daemonHeapBytes(Path metadata, Path data, long cacheBytes) throws IOException {
        long counts = org.thinfs.core.io.Devices.size(data) / (Layout.MIN_DATA_BLOCK_SECTORS * Layout.SECTOR_SIZE)
                + org.thinfs.core.io.Devices.size(metadata) / Layout.BLOCK_SIZE;
        return Math.max(384L << 20, cacheBytes + counts + (128L << 20));
    }

    static PoolFileSystem openFileSystem(PoolDir pool, boolean readOnly) throws IOException {
        return openFileSystem(pool, readOnly, DEFAULT_CACHE_BYTES);
    }

    static PoolFileSystem openFileSystem(PoolDir pool, boolean readOnly, long cacheBytes) throws IOException {
        return openFileSystem(pool, readOnly, cacheBytes, false);
    }

    /** As above; {@code direct}: O_DIRECT on the data device (mount --direct). */
    static PoolFileSystem openFileSystem(PoolDir pool, boolean readOnly, long cacheBytes, boolean direct)
            throws IOException {
        ThinPool tp = open(pool.metadata(), pool.data(), readOnly, pool.dir().toString(), cacheBytes, true, direct);
        try {
            return PoolFileSystem.open(tp, pool.dir());
        } catch (IOException | RuntimeException e) {
            tp.close();
            throw e;
        }
    }

    /** The data block size a metadata file's superblock records, in bytes (the file is only read). */
    static long superblockBlockSize(Path metadata) throws IOException {
        try (ThinMetadata md = ThinMetadata.open(FileBlockDevice.open(metadata, false), false, 64)) {
            return (long) md.dataBlockSectors() * Layout.SECTOR_SIZE;
        } catch (CorruptMetadataException e) {
            throw failedValidation(metadata.toString(), e);
        }
    }

    private static CorruptMetadataException failedValidation(String name, CorruptMetadataException e) {
        return new CorruptMetadataException("the metadata of " + name + " failed validation (" + e.getMessage()
                + "); run 'thinfs check " + name + "'", e);
    }
}
