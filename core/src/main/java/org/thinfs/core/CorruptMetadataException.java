package org.thinfs.core;

/** The metadata violates the format: a bad checksum, a misplaced block, a malformed node or superblock. */
public class CorruptMetadataException extends ThinfsException {
    private final long block;

    public CorruptMetadataException(long block, String message) {
        super("metadata block " + block + ": " + message);
        this.block = block;
    }

    /** The same problem told in a caller's words (which name the pool and what to run). */
    public CorruptMetadataException(String message, CorruptMetadataException cause) {
        super(message, cause);
        this.block = cause.block;
    }

    /** The metadata block the problem was found in. */
    public long block() {
        return block;
    }
}
