package org.thinfs.core.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.testing.TestVectors;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** XML → events → XML reproduces thin_dump's bytes; bad input fails with a line number. */
class XmlDumpRoundTripTest {
    static List<Path> dumps() {
        List<Path> l = TestVectors.withSuffix(".dump.xml");
        assertTrue(l.size() >= 11, "expected every vector's dump, found " + l);
        return l;
    }

    @ParameterizedTest
    @MethodSource("dumps")
    void parseThenWriteIsByteIdentical(Path xml) throws IOException {
        String want = Files.readString(xml, StandardCharsets.UTF_8);
        StringWriter out = new StringWriter();
        XmlDumpReader.read(xml, new XmlDumpWriter(out));
        assertEquals(want, out.toString(), xml.toString());
    }

    @ParameterizedTest
    @MethodSource("dumps")
    void irReplayIsByteIdentical(Path xml) throws IOException {
        PoolDump d = XmlDumpReader.parse(xml);
        StringWriter out = new StringWriter();
        d.accept(new XmlDumpWriter(out));
        assertEquals(Files.readString(xml), out.toString());
        for (DeviceDump dev : d.devices()) {
            assertTrue(dev.mappings().isSortedByOrigin());
        }
    }

    @Test
    void adjacentSinglesMergeIntoARangeAndTimeBreaksARun() {
        String in = "<superblock uuid=\"\" time=\"1\" transaction=\"0\" data_block_size=\"128\" nr_data_blocks=\"9\">\n"
                + "<device dev_id=\"1\" mapped_blocks=\"9\" transaction=\"0\" creation_time=\"0\" snap_time=\"0\">\n"
                + "<single_mapping origin_block=\"0\" data_block=\"5\" time=\"0\"/>\n"
                + "<single_mapping origin_block=\"1\" data_block=\"6\" time=\"0\"/>\n"
                + "<single_mapping origin_block=\"2\" data_block=\"7\" time=\"1\"/>\n"
                + "<range_mapping origin_begin=\"3\" data_begin=\"8\" length=\"2\" time=\"1\"/>\n"
                + "<single_mapping origin_block=\"6\" data_block=\"10\" time=\"1\"/>\n"
                + "</device>\n<device dev_id=\"2\" mapped_blocks=\"0\" transaction=\"0\" creation_time=\"0\" "
                + "snap_time=\"0\"/>\n</superblock>";
        StringWriter out = new StringWriter();
        PoolDump d = XmlDumpReader.parse(in, "inline");
        d.accept(new XmlDumpWriter(out));
        assertEquals("<superblock uuid=\"\" time=\"1\" transaction=\"0\" flags=\"0\" version=\"1\" "
                + "data_block_size=\"128\" nr_data_blocks=\"9\">\n"
                + "  <device dev_id=\"1\" mapped_blocks=\"9\" transaction=\"0\" creation_time=\"0\" snap_time=\"0\">\n"
                + "    <range_mapping origin_begin=\"0\" data_begin=\"5\" length=\"2\" time=\"0\"/>\n"
                + "    <range_mapping origin_begin=\"2\" data_begin=\"7\" length=\"3\" time=\"1\"/>\n"
                + "    <single_mapping origin_block=\"6\" data_block=\"10\" time=\"1\"/>\n"
                + "  </device>\n"
                + "  <device dev_id=\"2\" mapped_blocks=\"0\" transaction=\"0\" creation_time=\"0\" snap_time=\"0\">\n"
                + "  </device>\n"
                + "</superblock>\n", out.toString());
        assertEquals(6, d.device(1).orElseThrow().mappings().size());
    }

    @Test
    void errorsNameTheLine() {
        String head = "<superblock uuid=\"\" time=\"0\" transaction=\"0\" data_block_size=\"128\" nr_data_blocks=\"9\">\n"
                + "<device dev_id=\"1\" mapped_blocks=\"0\" transaction=\"0\" creation_time=\"0\" snap_time=\"0\">\n";
        assertLine(3, head + "<single_mapping origin_block=\"x\" data_block=\"1\" time=\"0\"/>\n</device></superblock>");
        assertLine(3, head + "<single_mapping origin_block=\"1\" time=\"0\"/>\n</device></superblock>");
        assertLine(3, head + "<bogus/>\n</device></superblock>");
        assertLine(3, head + "<range_mapping origin_begin=\"0\" data_begin=\"1\" length=\"0\" time=\"0\"/>\n"
                + "</device></superblock>");
        assertLine(3, head + "<single_mapping origin_block=\"1\" data_block=\"1\" time=\"16777216\"/>\n"
                + "</device></superblock>");
        assertLine(3, head + "<single_mapping origin_block=\"1\" data_block=\"1099511627776\" time=\"0\"/>\n"
                + "</device></superblock>");
        assertLine(3, head + "</superblock>\n");
        assertLine(4, head + "\n");
        assertLine(1, "<device/>");
        DumpFormatException e = assertThrows(DumpFormatException.class,
                () -> XmlDumpReader.parse("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
                        + "<superblock uuid=\"&e;\"/>", "dtd"));
        assertFalse(e.getMessage().contains("root:"), e.getMessage());
    }

    private static void assertLine(int line, String xml) {
        DumpFormatException e = assertThrows(DumpFormatException.class, () -> XmlDumpReader.parse(xml, "t.xml"));
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().startsWith("t.xml:" + line + ":"), e.getMessage());
    }
}
