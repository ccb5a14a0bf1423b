package org.thinfs.core;

import java.io.IOException;

/** The metadata device or the data store failed an I/O operation (EIO, ENOSPC from the host, ...). */
public final class StorageIOException extends ThinfsException {
    public StorageIOException(String message, IOException cause) {
        super(message + ": " + cause.getMessage(), cause);
    }
}
