package org.thinfs.fs.model;

/**
 * The two special values of utimensat(2)'s timespec, as the model takes them: a time in nanoseconds since the
 * epoch, or one of these. FUSE passes UTIME_NOW and UTIME_OMIT through in tv_nsec; the adapter translates them.
 */
public final class Times {
    /** Leave this time as it is (UTIME_OMIT). */
    public static final long OMIT = Long.MIN_VALUE;
    /** Set this time to the clock (UTIME_NOW). */
    public static final long NOW = Long.MIN_VALUE + 1;

    private Times() {
    }
}
