package org.thinfs.core.io;

import java.nio.ByteBuffer;

/**
 * Seals a block before it is written (sets its location and checksum, checksum last) and checks it after it is
 * read. A failed check throws {@link org.thinfs.core.ChecksumException} naming the block and {@link #name()}.
 */
public interface BlockValidator {
    String name();

    void prepareForWrite(ByteBuffer block, long nr);

    void check(ByteBuffer block, long nr);
}
