package org.thinfs.core.tools;

/** A run of virtual blocks and how two devices compare over it. */
public record DeltaRange(Kind kind, long begin, long length) {
    /** The element names thin_delta prints. */
    public enum Kind {
        SAME("same"), DIFFERENT("different"), LEFT_ONLY("left_only"), RIGHT_ONLY("right_only");

        private final String xmlName;

        Kind(String xmlName) {
            this.xmlName = xmlName;
        }

        public String xmlName() {
            return xmlName;
        }
    }

    public long end() {
        return begin + length;
    }
}
