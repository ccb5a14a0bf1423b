package org.thinfs.core;

/** The pool refuses changes: it was opened read-only, or an earlier metadata failure switched it to read-only. */
public final class MetadataReadOnlyException extends ThinfsException {
    public MetadataReadOnlyException(String message) {
        super(message);
    }
}
