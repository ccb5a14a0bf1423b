package org.thinfs.core.pool;

import org.thinfs.core.ChangeRefusedException;
import org.thinfs.core.format.Layout;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.thin.ThinMetadata;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/**
 * A pool's two files: formatting and opening them (each step closes what it opened when a later one fails), and
 * growing the metadata file. Everything here runs before a {@link ThinPool} exists or under its gate.
 */
final class PoolFiles {
    private PoolFiles() {
    }

    static ThinPool create(Path metadataPath, Path dataPath, PoolConfig config, PoolOptions options)
            throws IOException {
        if (org.thinfs.core.io.Devices.isBlockDevice(metadataPath)) {
            // A device is as big as it is: the metadata takes all of it (up to the format's limit), as dm-thin does.
            if (org.thinfs.core.io.Devices.size(metadataPath) < 2L * Layout.BLOCK_SIZE * 256) {
                throw new ChangeRefusedException("the metadata device " + metadataPath + " is smaller than 2 MiB");
            }
        } else {
            try (RandomAccessFile f = new RandomAccessFile(metadataPath.toFile(), "rw")) {
                if (f.length() < config.metadataSize()) {
                    f.setLength(config.metadataSize());
                }
            }
        }
        FileBlockDevice dev = FileBlockDevice.open(metadataPath, true);
        DataFile df;
        try {
            df = new DataFile(dataPath, true);
        } catch (IOException e) {
            dev.close();
            throw e;
        }
        return create(dev, df, metadataPath, config, options);
    }

    static ThinPool create(BlockDevice metadataDevice, DataStore dataStore, Path metadataPath, PoolConfig config,
                           PoolOptions options) throws IOException {
        long bs = config.dataBlockSize();
        if (bs % (Layout.MIN_DATA_BLOCK_SECTORS * Layout.SECTOR_SIZE) != 0
                || !Layout.isValidDataBlockSectors(bs / Layout.SECTOR_SIZE)) {
            closeBoth(metadataDevice, dataStore);
            throw new IllegalArgumentException("data block size must be a multiple of 64 KiB from 64 KiB to 1 GiB, "
                    + "not " + bs + " bytes");
        }
        long nrData = config.dataSize() / bs;
        if (nrData < 1) {
            closeBoth(metadataDevice, dataStore);
            throw new IllegalArgumentException("the data size " + config.dataSize()
                    + " bytes holds no whole data block of " + bs + " bytes");
        }
        ThinMetadata md;
        try {
            md = ThinMetadata.format(metadataDevice, (int) (bs / Layout.SECTOR_SIZE), nrData, options.cacheBlocks());
            dataStore.ensureSize(nrData * bs);
        } catch (RuntimeException e) {
            closeBoth(metadataDevice, dataStore);
            throw e;
        }
        return new ThinPool(md, dataStore, metadataPath, nameOf(metadataDevice, metadataPath), options);
    }

    static ThinPool open(Path metadataPath, Path dataPath, PoolOptions options) throws IOException {
        FileBlockDevice dev = FileBlockDevice.open(metadataPath, !options.readOnly());
        DataFile df;
        try {
            df = new DataFile(dataPath, !options.readOnly());
        } catch (IOException e) {
            dev.close();
            throw e;
        }
        return open(dev, df, metadataPath, options);
    }

    static ThinPool open(BlockDevice metadataDevice, DataStore dataStore, Path metadataPath, PoolOptions options)
            throws IOException {
        ThinMetadata md;
        try {
            md = ThinMetadata.open(metadataDevice, !options.readOnly(), options.cacheBlocks());
        } catch (RuntimeException e) {
            closeBoth(metadataDevice, dataStore);
            throw e;
        }
        long need = md.dataSpace().nrBlocks() * (long) md.dataBlockSectors() * Layout.SECTOR_SIZE;
        if (!options.readOnly()) {
            dataStore.ensureSize(need);
        }
        return new ThinPool(md, dataStore, metadataPath, nameOf(metadataDevice, metadataPath), options);
    }

    /** Extends the metadata file to hold {@code blocks} 4 KiB blocks (never shrinks it). */
    static void growMetadataFile(Path metadataPath, String poolName, long blocks) throws IOException {
        if (metadataPath == null) {
            throw new ChangeRefusedException("pool " + poolName + " was opened on a device, not a file: grow it"
                    + " yourself");
        }
        if (org.thinfs.core.io.Devices.isBlockDevice(metadataPath)) {
            long have = org.thinfs.core.io.Devices.size(metadataPath);
            if (have < blocks * Layout.BLOCK_SIZE) {
                throw new ChangeRefusedException("the metadata device " + metadataPath + " holds " + have
                        + " bytes; grow the device first (lvextend, losetup -c)");
            }
            return;
        }
        try (RandomAccessFile f = new RandomAccessFile(metadataPath.toFile(), "rw")) {
            long bytes = blocks * Layout.BLOCK_SIZE;
            if (f.length() < bytes) {
                f.setLength(bytes);
            }
        }
    }

    private static String nameOf(BlockDevice dev, Path metadataPath) {
        return metadataPath != null ? metadataPath.toString() : dev.toString();
    }

    private static void closeBoth(BlockDevice dev, DataStore store) throws IOException {
        try {
            dev.close();
        } finally {
            store.close();
        }
    }
}
