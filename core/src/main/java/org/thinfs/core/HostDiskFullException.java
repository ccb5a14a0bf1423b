package org.thinfs.core;

import java.io.IOException;

/** The host file system under a pool's file is full (ENOSPC from a write, an fsync or an extension of the file). */
public final class HostDiskFullException extends StorageIOException {
    HostDiskFullException(String message, IOException cause) {
        super(message, cause);
    }
}
