package org.thinfs.core;

/** A thin device id that the metadata does not hold. */
public final class NoSuchDeviceException extends ThinfsException {
    public NoSuchDeviceException(long id) {
        super("no thin device with id " + id);
    }
}
