package org.thinfs.core;

/**
 * An operation stopped half way for a reason that is no fault of the input or the disk (out of memory, a stack
 * overflow, a bug): the pool treats it as an I/O error would be treated, rolling back and turning read-only.
 */
public class UnexpectedFailureException extends ThinfsException {
    public UnexpectedFailureException(Throwable cause) {
        super(cause.toString(), cause);
    }
}
