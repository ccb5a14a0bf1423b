package org.thinfs.core.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.testing.TestVectors;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading each vector's metadata reproduces thin_dump's output byte for byte. */
class MetadataReaderTest {
    static List<Path> vectors() {
        List<Path> l = TestVectors.metadataFiles();
        assertTrue(l.size() >= 10, l.toString());
        return l;
    }

    @ParameterizedTest
    @MethodSource("vectors")
    void dumpEqualsThinDump(Path meta) throws IOException {
        StringWriter out = new StringWriter();
        MetadataReader.dump(meta, false, new XmlDumpWriter(out));
        assertEquals(Files.readString(TestVectors.sibling(meta, ".dump.xml")), out.toString(), meta.toString());
    }

    @Test
    void dumpThroughTheMetadataSnapshotEqualsThinDumpM() throws IOException {
        Path meta = TestVectors.testdata().resolve("kernel/kernel-ops.meta");
        StringWriter out = new StringWriter();
        MetadataReader.dump(meta, true, new XmlDumpWriter(out));
        assertEquals(Files.readString(meta.resolveSibling("kernel-ops.metasnap.dump.xml")), out.toString());
    }

    @Test
    void noSnapshotHeldIsAClearError() {
        Path meta = TestVectors.testdata().resolve("single.meta");
        CorruptMetadataException e = assertThrows(CorruptMetadataException.class,
                () -> MetadataReader.read(meta, true));
        assertTrue(e.getMessage().contains("held_root"), e.getMessage());
    }

    @Test
    void irMatchesTheXmlIr() throws IOException {
        for (Path meta : vectors()) {
            assertEquals(XmlDumpReader.parse(TestVectors.sibling(meta, ".dump.xml")),
                    MetadataReader.read(meta, false), meta.toString());
        }
    }
}
