package org.thinfs.core;

import java.io.IOException;

/**
 * The metadata device or the data store failed an I/O operation (EIO, ENOSPC from the host, ...). Made with
 * {@link #of}, which tells a full host file system ({@link HostDiskFullException}) from other failures, so callers
 * map types, never messages.
 */
public class StorageIOException extends ThinfsException {
    protected StorageIOException(String message, IOException cause) {
        super(message + ": " + cause.getMessage(), cause);
    }

    /**
     * The failure of {@code cause}, described by {@code message}. Java reports ENOSPC only in the message (the
     * kernel's strerror), so this is the one place that reads it.
     */
    public static StorageIOException of(String message, IOException cause) {
        String m = cause.getMessage();
        if (m != null && m.contains("No space left on device")) {
            return new HostDiskFullException(message, cause);
        }
        return new StorageIOException(message, cause);
    }
}
