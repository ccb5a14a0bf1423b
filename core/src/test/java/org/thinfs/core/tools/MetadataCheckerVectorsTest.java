package org.thinfs.core.tools;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every vector, thin_restore- or kernel-written, checks clean, and thin_check agrees. */
class MetadataCheckerVectorsTest {
    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void vectorIsClean(Path meta) {
        CheckReport r = MetadataChecker.check(meta);
        assertTrue(r.isClean(), meta + ":\n" + r);
        assertEquals(0, r.errorCount());
    }

    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void thinCheckAgrees(Path meta) {
        ThinTools.assumeInstalled();
        assertTrue(ThinTools.check(meta).ok());
    }
}
