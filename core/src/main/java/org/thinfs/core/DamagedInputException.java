package org.thinfs.core;

/**
 * An input stream (a diff, an rbd diff, a dump) is truncated, damaged or of another format. Nothing was changed
 * beyond what the import's own transaction holds, which is never committed.
 */
public class DamagedInputException extends ThinfsException {
    public DamagedInputException(String message) {
        super(message);
    }

    public DamagedInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
