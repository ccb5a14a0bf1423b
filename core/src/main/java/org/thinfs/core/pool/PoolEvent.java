package org.thinfs.core.pool;

/**
 * Something a monitoring script wants to hear about a pool, as {@code thinfs events} streams it.
 *
 * @param kind    what happened (see {@link Kind})
 * @param space   "data" or "metadata" for the space events, null otherwise
 * @param message one sentence for people
 * @param used    blocks in use in that space when it happened (0 when not a space event)
 * @param total   blocks of that space (0 when not a space event)
 */
public record PoolEvent(Kind kind, String space, String message, long used, long total) {
    /** What happened; {@link #wire} is the name scripts see. */
    public enum Kind {
        /** Use crossed the autoextend threshold (or, with autoextend off, the 95% mark). */
        THRESHOLD("threshold"),
        /** Autoextend (or a resize) grew a space. */
        EXTENDED("extended"),
        /** A write found no free block. */
        OUT_OF_SPACE("out-of-space"),
        /** The pool refuses changes from now on. */
        READ_ONLY("read-only"),
        /** The metadata is flagged NEEDS_CHECK. */
        NEEDS_CHECK("needs-check"),
        /** A commit failed. */
        COMMIT_FAILED("commit-failed"),
        /** The daemon took a scheduled snapshot set. */
        SNAPSHOT("snapshot"),
        /** A snapshot set was removed by the retention policy or because space ran low (prune-at). */
        PRUNED("pruned");

        public final String wire;

        Kind(String wire) {
            this.wire = wire;
        }
    }

    public static PoolEvent of(Kind kind, String message) {
        return new PoolEvent(kind, null, message, 0, 0);
    }
}
