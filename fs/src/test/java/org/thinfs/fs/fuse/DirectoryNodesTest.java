package org.thinfs.fs.fuse;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DirectoryNodesTest {
    private static final int LOOKUP = 1;
    private static final int GETATTR = 3;
    private static final int MKDIR = 9;

    @Test
    void aLookupTeachesTheParentsNumberAndNothingElseDoes() {
        DirectoryNodes d = new DirectoryNodes();
        assertEquals(1, d.nodeOf("/"));
        assertEquals(-1, d.nodeOf("/snapshots"));
        d.sawAttributesAsked("/snapshots", LOOKUP, 1);               // the root's child: nothing new to learn
        assertEquals(-1, d.nodeOf("/snapshots"));
        d.sawAttributesAsked("/snapshots/s1", LOOKUP, 7);
        assertEquals(7, d.nodeOf("/snapshots"));
        d.sawAttributesAsked("/snapshots/s1", GETATTR, 9);          // GETATTR's node is the path's own
        assertEquals(7, d.nodeOf("/snapshots"));
        assertEquals(-1, d.nodeOf("/snapshots/s1"));
        d.sawAttributesAsked("/snapshots/s1/vm", LOOKUP, 12);
        d.sawAttributesAsked("/snapshots/s2", MKDIR, 8);            // the kernel numbered the directory anew
        assertEquals(12, d.nodeOf("/snapshots/s1"));
        assertEquals(8, d.nodeOf("/snapshots"));
        d.sawAttributesAsked(null, LOOKUP, 3);                        // libfuse's null path: ignored
    }

    @Test
    void forgettingADirectoryForgetsWhatIsBelowIt() {
        DirectoryNodes d = new DirectoryNodes();
        d.sawAttributesAsked("/snapshots/s1/vm", LOOKUP, 12);
        d.sawAttributesAsked("/snapshots/s10/vm", LOOKUP, 13);
        d.sawAttributesAsked("/snapshots/s1", LOOKUP, 7);
        d.forget("/snapshots/s1");
        assertEquals(-1, d.nodeOf("/snapshots/s1"));
        assertEquals(13, d.nodeOf("/snapshots/s10"), "a sibling whose name starts the same stays");
        assertEquals(7, d.nodeOf("/snapshots"));
    }
}
