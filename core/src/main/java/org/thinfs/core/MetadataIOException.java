package org.thinfs.core;

import java.io.IOException;

/** The metadata or data file failed an I/O operation. */
public final class MetadataIOException extends ThinfsException {
    public MetadataIOException(String message, IOException cause) {
        super(message + ": " + cause.getMessage(), cause);
    }
}
