package org.thinfs.core;

/** Base of every error the engine reports to a caller that can act on it. */
public class ThinfsException extends RuntimeException {
    public ThinfsException(String message) {
        super(message);
    }

    public ThinfsException(String message, Throwable cause) {
        super(message, cause);
    }
}
