package org.thinfs.core.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.thin.ThinMetadata;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * The pool's two spaces, data blocks and metadata blocks: how much of each is used, growing them, and the warnings
 * when either runs low (AutoExtender turns low data space into events and growth). ThinPool's public methods of the
 * same names call here.
 */
final class PoolSpace {
    private static final Logger LOG = LoggerFactory.getLogger(PoolSpace.class);

    private final ReentrantReadWriteLock gate;
    private final MetadataGuard metadata;
    private final DataStore data;
    private final Committer committer;
    /** The metadata file, when the pool was opened by path (needed to grow it); null otherwise. */
    private final Path metadataPath;
    private final String name;
    private final long blockSize;
    /** ThinPool#commit: a resize is committed before it returns. */
    private final Runnable commit;
    private final Consumer<PoolEvent> events;

    PoolSpace(ReentrantReadWriteLock gate, MetadataGuard metadata, DataStore data, Committer committer,
              Path metadataPath, String name, long blockSize, Runnable commit, Consumer<PoolEvent> events) {
        this.gate = gate;
        this.metadata = metadata;
        this.data = data;
        this.committer = committer;
        this.metadataPath = metadataPath;
        this.name = name;
        this.blockSize = blockSize;
        this.commit = commit;
        this.events = events;
    }

    /**
     * Freed data blocks go to the committer (to be punched once the commit that frees them is down); a low free
     * space is logged, for data below {@code lowWaterBlocks} (0: a twentieth of the pool), for metadata below a
     * twentieth. A writable pool only, once, before any change.
     */
    void watch(ThinMetadata md, long lowWaterBlocks) {
        md.dataSpace().setFreeListener(committer::freed);
        long low = lowWaterBlocks > 0 ? lowWaterBlocks : md.dataSpace().nrBlocks() / 20;
        md.dataSpace().setThreshold(low, () -> LOG.warn(
                "pool {} is running out of data space: {} of {} data blocks free", name,
                md.dataSpace().nrFree(), md.dataSpace().nrBlocks()));
        long metaLow = Math.max(16, md.metadataSpace().nrBlocks() / 20);
        md.metadataSpace().setThreshold(metaLow, () -> LOG.warn(
                "pool {} is running out of metadata space: {} of {} blocks free; grow it with "
                        + "'thinfs resize --metadata'", name, md.metadataSpace().nrFree(),
                md.metadataSpace().nrBlocks()));
    }

    PoolUsage usage() {
        return metadata.read(md -> new PoolUsage(blockSize, md.dataSpace().nrBlocks(), md.dataSpace().nrAllocated(),
                md.metadataSpace().nrBlocks(), md.metadataSpace().nrAllocated(), md.transactionId(), md.time()));
    }

    /** Grows the data space to {@code newDataBlocks} (the data file is extended as needed); committed. */
    void resizeData(long newDataBlocks) {
        gate.writeLock().lock();
        try {
            // The data store first: a device too small refuses here, before the metadata says a word about it.
            data.ensureSize(newDataBlocks * blockSize);
            long oldBlocks = metadata.change(md -> {
                long before = md.dataSpace().nrBlocks();
                md.spaces().resizeData(newDataBlocks);
                return before;
            });
            if (committer.tracksZeros() && newDataBlocks > oldBlocks) {
                committer.punchAndRecord(oldBlocks, newDataBlocks); // new and free; the gate keeps them from use
            }
        } finally {
            gate.writeLock().unlock();
        }
        commit.run();
        PoolUsage u = usage();
        events.accept(new PoolEvent(PoolEvent.Kind.EXTENDED, "data", "data space grown to " + newDataBlocks
                + " blocks", u.dataBlocksUsed(), u.dataBlocks()));
    }

    /** Grows the metadata space to {@code newMetadataBlocks} 4 KiB blocks (the file grows as needed); committed. */
    void resizeMetadata(long newMetadataBlocks) throws IOException {
        gate.writeLock().lock();
        try {
            PoolFiles.growMetadataFile(metadataPath, name, newMetadataBlocks);
            metadata.change(md -> {
                md.spaces().resizeMetadata(newMetadataBlocks);
                return null;
            });
        } finally {
            gate.writeLock().unlock();
        }
        commit.run();
        PoolUsage u = usage();
        events.accept(new PoolEvent(PoolEvent.Kind.EXTENDED, "metadata", "metadata space grown to "
                + newMetadataBlocks + " blocks", u.metadataBlocksUsed(), u.metadataBlocks()));
    }
}
