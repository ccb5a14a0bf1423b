package org.thinfs.fs.model;

import org.thinfs.core.format.Layout;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinPool;

import java.io.IOException;

/** {@code thinfs resize}: the same checks and steps whether the command or the mount daemon carries it out. */
public final class SpaceResize {
    private SpaceResize() {
    }

    /**
     * Grows the data space to {@code dataBytes} and/or the metadata space to {@code metadataBytes} (null: leave it);
     * each committed before this returns. Shrinking is refused with IllegalArgumentException, before anything changes.
     */
    public static void apply(ThinPool tp, Long dataBytes, Long metadataBytes) throws IOException {
        PoolUsage u = tp.usage();
        Long dataBlocks = null;
        Long metaBlocks = null;
        if (dataBytes != null) {
            dataBlocks = dataBytes / u.dataBlockSize();
            if (dataBlocks < u.dataBlocks()) {
                throw new IllegalArgumentException("cannot shrink the data space from " + u.dataBlocks() + " to "
                        + dataBlocks + " blocks");
            }
        }
        if (metadataBytes != null) {
            metaBlocks = Math.min(metadataBytes / Layout.BLOCK_SIZE, Layout.MAX_METADATA_BLOCKS);
            if (metaBlocks < u.metadataBlocks()) {
                throw new IllegalArgumentException("cannot shrink the metadata space from " + u.metadataBlocks()
                        + " to " + metaBlocks + " blocks");
            }
        }
        if (dataBlocks != null && dataBlocks > u.dataBlocks()) {
            tp.resizeData(dataBlocks);
        }
        if (metaBlocks != null && metaBlocks > u.metadataBlocks()) {
            tp.resizeMetadata(metaBlocks);
        }
    }
}
