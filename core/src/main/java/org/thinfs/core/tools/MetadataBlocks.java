package org.thinfs.core.tools;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.StorageIOException;
import org.thinfs.core.format.Layout;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.BlockValidator;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Uncached, read-only access to metadata blocks for the tools: each read returns a fresh little-endian buffer.
 * The tools visit every block once, so a cache would only cost memory.
 */
final class MetadataBlocks {
    private final BlockDevice device;
    private final long nrBlocks;

    MetadataBlocks(BlockDevice device) {
        this.device = device;
        try {
            this.nrBlocks = device.nrBlocks();
        } catch (IOException e) {
            throw StorageIOException.of("cannot size the metadata device " + device, e);
        }
    }

    long nrBlocks() {
        return nrBlocks;
    }

    /** Reads block {@code nr} without validation; refuses a block past the end of the device. */
    ByteBuffer readRaw(long nr) {
        if (nr < 0 || nr >= nrBlocks) {
            throw new CorruptMetadataException(nr, "is past the end of the metadata device (" + nrBlocks
                    + " blocks)");
        }
        ByteBuffer b = ByteBuffer.allocate(Layout.BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        try {
            device.read(nr, b);
        } catch (IOException e) {
            throw StorageIOException.of("cannot read metadata block " + nr + ": " + e.getMessage(), e);
        }
        return b.clear();
    }

    /** Reads block {@code nr} and checks its checksum and self-recorded location with {@code validator}. */
    ByteBuffer read(long nr, BlockValidator validator) {
        ByteBuffer b = readRaw(nr);
        validator.check(b, nr);
        return b;
    }
}
