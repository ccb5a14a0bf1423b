package org.thinfs.core;

/**
 * A change the pool's present state does not allow: shrinking a space, a second metadata snapshot, releasing one
 * that is not held, a stale transaction id, growing metadata that is not a file. Nothing was changed; the caller
 * can fix the request and try again.
 */
public class ChangeRefusedException extends ThinfsException {
    public ChangeRefusedException(String message) {
        super(message);
    }
}
