package org.thinfs.core;

/** No free data block is left in the pool; nothing of the failing request was applied. */
public final class OutOfDataSpaceException extends ThinfsException {
    public OutOfDataSpaceException(String message) {
        super(message);
    }
}
