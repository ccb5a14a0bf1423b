package org.thinfs.core.thin;

import org.thinfs.core.ChangeRefusedException;
import org.thinfs.core.format.Layout;

/**
 * Growing the pool's two space maps ({@code ThinMetadata#spaces()}): the data space map to a larger data device, the
 * metadata space map to a larger metadata device. Neither shrinks (dm-thin refuses it too: blocks past the new end
 * could be in use). The change is part of the current transaction and is published by the next commit.
 */
public final class MetadataSpaces {
    private final MetadataTransaction tx;

    MetadataSpaces(MetadataTransaction tx) {
        this.tx = tx;
    }

    /** Grows the data space map to {@code nrBlocks}; shrinking is refused. */
    public void resizeData(long nrBlocks) {
        ThinMetadata.requireWritable(tx);
        long cur = tx.dataSpace.nrBlocks();
        if (nrBlocks < cur) {
            throw new ChangeRefusedException("cannot shrink the data space from " + cur + " to " + nrBlocks
                    + " blocks");
        }
        if (nrBlocks > Layout.MAX_DATA_BLOCK + 1) {
            throw new IllegalArgumentException("at most 2^40 data blocks");
        }
        tx.dataSpace.extend(nrBlocks - cur);
        tx.changed = true;
    }

    /** Grows the metadata space map to {@code nrBlocks} (the device must already be that large). */
    public void resizeMetadata(long nrBlocks) {
        ThinMetadata.requireWritable(tx);
        long cur = tx.metadataSpace.nrBlocks();
        long dev = tx.bm.refreshSize();
        if (nrBlocks < cur) {
            throw new ChangeRefusedException("cannot shrink the metadata space from " + cur + " to " + nrBlocks
                    + " blocks");
        }
        if (nrBlocks > dev) {
            throw new ChangeRefusedException("the metadata device holds only " + dev + " blocks, not " + nrBlocks);
        }
        tx.metadataSpace.extend(Math.min(nrBlocks, Layout.MAX_METADATA_BLOCKS) - cur);
        tx.changed = true;
    }
}
