package org.thinfs.core;

/**
 * Base of every error the engine reports to a caller that can act on it. Abstract, so each failure has a type a
 * front end maps (Errno, NbdErrors, the control socket) without reading messages.
 */
public abstract class ThinfsException extends RuntimeException {
    protected ThinfsException(String message) {
        super(message);
    }

    protected ThinfsException(String message, Throwable cause) {
        super(message, cause);
    }
}
