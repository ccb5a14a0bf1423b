package org.thinfs.core;

/** A thin device id that is already in use. */
public final class DeviceExistsException extends ThinfsException {
    public DeviceExistsException(long id) {
        super("thin device " + id + " already exists");
    }
}
