package org.thinfs.core.io;

import org.thinfs.core.ChecksumException;
import org.thinfs.core.format.Checksums;

import java.nio.ByteBuffer;

/** The four checksummed block types of the format; each stores its own block number at offset 8. */
public final class Validators {
    public static final BlockValidator SUPERBLOCK = new Checksummed("superblock", Checksums.SUPERBLOCK_XOR);
    public static final BlockValidator NODE = new Checksummed("btree node", Checksums.NODE_XOR);
    public static final BlockValidator BITMAP = new Checksummed("space map bitmap", Checksums.BITMAP_XOR);
    public static final BlockValidator INDEX = new Checksummed("metadata space map index", Checksums.INDEX_XOR);

    private Validators() {
    }

    private record Checksummed(String name, int xor) implements BlockValidator {
        @Override
        public void prepareForWrite(ByteBuffer block, long nr) {
            block.putLong(8, nr);
            Checksums.store(block, xor);
        }

        @Override
        public void check(ByteBuffer block, long nr) {
            int want = Checksums.compute(block, xor);
            int got = Checksums.stored(block);
            if (want != got) {
                throw new ChecksumException(nr, name, String.format("checksum %08x, expected %08x", got, want));
            }
            long self = block.getLong(8);
            if (self != nr) {
                throw new ChecksumException(nr, name, "it records block number " + self);
            }
        }
    }
}
