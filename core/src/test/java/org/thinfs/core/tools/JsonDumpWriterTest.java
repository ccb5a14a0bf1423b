package org.thinfs.core.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.testing.TestVectors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The JSON dump carries exactly the dump's content, in runs merged like the XML's. */
class JsonDumpWriterTest {
    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void jsonParsesBackToTheSameDump(Path meta) throws IOException {
        PoolDump want = MetadataReader.read(meta, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        want.accept(new JsonDumpWriter(out, false));
        assertEquals(want, fromJson(new ObjectMapper().readTree(out.toByteArray())), meta.toString());
    }

    @Test
    void runsAreMergedAsInTheXml() throws IOException {
        PoolDump d = MetadataReader.read(TestVectors.testdata().resolve("single.meta"), false);
        StringWriter xml = new StringWriter();
        d.accept(new XmlDumpWriter(xml));
        StringWriter json = new StringWriter();
        d.accept(new JsonDumpWriter(json, true));
        JsonNode maps = new ObjectMapper().readTree(json.toString()).get("devices").get(0).get("mappings");
        long xmlLines = xml.toString().lines().filter(l -> l.contains("_mapping ")).count();
        assertEquals(xmlLines, maps.size());
        assertEquals(16, maps.get(0).get("length").asLong());
        assertEquals(1, maps.get(1).get("length").asLong());
    }

    @Test
    void unsignedValuesStayUnsigned() throws IOException {
        PoolDump d = new PoolDump(new PoolHeader("u\"1", 0, -1L, 0, 2, 128, 10), List.of());
        StringWriter json = new StringWriter();
        d.accept(new JsonDumpWriter(json, false));
        JsonNode sb = new ObjectMapper().readTree(json.toString()).get("superblock");
        assertEquals("18446744073709551615", sb.get("transaction").bigIntegerValue().toString());
        assertEquals("u\"1", sb.get("uuid").asText());
    }

    static PoolDump fromJson(JsonNode root) {
        JsonNode s = root.get("superblock");
        PoolHeader h = new PoolHeader(s.get("uuid").asText(), s.get("time").asLong(), s.get("transaction").asLong(),
                s.get("flags").asLong(), s.get("version").asLong(), s.get("data_block_size").asLong(),
                s.get("nr_data_blocks").asLong());
        List<DeviceDump> devices = new ArrayList<>();
        for (JsonNode d : root.get("devices")) {
            MappingList.Builder b = new MappingList.Builder();
            for (JsonNode m : d.get("mappings")) {
                for (long i = 0; i < m.get("length").asLong(); i++) {
                    b.add(m.get("origin_begin").asLong() + i, m.get("data_begin").asLong() + i,
                            m.get("time").asInt());
                }
            }
            devices.add(new DeviceDump(new DeviceHeader(d.get("dev_id").asLong(), d.get("mapped_blocks").asLong(),
                    d.get("transaction").asLong(), d.get("creation_time").asLong(), d.get("snap_time").asLong()),
                    b.build()));
        }
        return new PoolDump(h, devices);
    }
}
