package org.thinfs.core;

/** No free metadata block is left: the pool must be grown with {@code thinfs resize --metadata}. */
public final class OutOfMetadataSpaceException extends ThinfsException {
    public OutOfMetadataSpaceException(String message) {
        super(message);
    }
}
