package org.thinfs.core.tools;

/**
 * One finding of {@link MetadataChecker}: how serious it is, which block it concerns (a metadata block, or a data
 * block for data space-map findings) and what is wrong.
 */
public record Problem(Severity severity, Space space, long block, String message) {
    public enum Severity {
        /** The metadata is corrupt, or inconsistent in a way the kernel or the tools would act wrongly on. */
        ERROR,
        /** Legal but suspicious or wasteful (for example a search hint that hides free blocks). */
        WARNING
    }

    /** Which device {@link #block()} numbers. */
    public enum Space {
        METADATA, DATA
    }

    @Override
    public String toString() {
        return (severity == Severity.ERROR ? "error" : "warning") + ": " + (space == Space.DATA ? "data" : "metadata")
                + " block " + Long.toUnsignedString(block) + ": " + message;
    }
}
