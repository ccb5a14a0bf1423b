package org.thinfs.core.tools;

/** The btrees of the format, with their leaf value size (FORMAT.md section 6). */
enum TreeKind {
    TOP_LEVEL("mapping tree top level", 8, true),
    DEVICE("device mapping tree", 8, false),
    DETAILS("device details tree", 24, true),
    DATA_INDEX("data space map index tree", 16, false),
    METADATA_REF_COUNT("metadata ref-count tree", 4, false),
    DATA_REF_COUNT("data ref-count tree", 4, false);

    final String title;
    final int valueSize;
    /**
     * Whether a walk that meets an already checked subtree reads it again to hand its entries to the caller: the
     * small per-pool trees (a view needs all their entries) but not device trees (their summary suffices).
     */
    final boolean rereadShared;

    TreeKind(String title, int valueSize, boolean rereadShared) {
        this.title = title;
        this.valueSize = valueSize;
        this.rereadShared = rereadShared;
    }
}
