package org.thinfs.core;

/** A block's checksum or its self-recorded location does not match (names the block and its type). */
public final class ChecksumException extends CorruptMetadataException {
    public ChecksumException(long block, String type, String detail) {
        super(block, "bad " + type + " (" + detail + ")");
    }
}
