package org.thinfs.core.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.testing.TestVectors;
import org.thinfs.core.testing.ThinTools;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** thinfs restore: thin_check passes, thin_dump and thinfs dump give back the input, thinfs check is clean. */
class ThinRestoreTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.XmlDumpRoundTripTest#dumps")
    void restoreRoundTrips(Path xml) throws IOException {
        String want = Files.readString(xml);
        Path input = xml;
        if (xml.getFileName().toString().contains("metasnap")) {
            // thin_dump -m prints nr_data_blocks 0 (the snapshot's space-map roots are zero): give the pool its size
            want = want.replace("nr_data_blocks=\"0\"", "nr_data_blocks=\"1024\"");
            input = tmp.resolve("fixed.xml");
            Files.writeString(input, want);
        }
        Path meta = emptyFile(4 << 20);
        ThinRestore.restore(input, meta);
        StringWriter ours = new StringWriter();
        MetadataReader.dump(meta, false, new XmlDumpWriter(ours));
        assertEquals(want, ours.toString(), "thinfs dump of the restored " + xml.getFileName());
        CheckReport r = MetadataChecker.check(meta);
        assertTrue(r.isClean(), r.toString());
        assertEquals(0, r.warningCount(), "a fresh restore has exact counters and hints:\n" + r);
        if (ThinTools.isInstalled()) {
            ThinTools.check(meta).requireOk();
            assertEquals(want, ThinTools.dump(meta, false).requireOk().stdout(), "thin_dump of the restore");
        }
    }

    /** Random pools: restore → thin_check, thin_dump equal to the input, and thin_restore's data counts agree. */
    @Test
    void randomPoolsMatchThinRestore() throws IOException {
        ThinTools.assumeInstalled();
        for (long seed = 1; seed <= 6; seed++) {
            Random rnd = new Random(seed);
            PoolDump pool = randomPool(rnd);
            Path xml = tmp.resolve("pool" + seed + ".xml");
            try (var w = Files.newBufferedWriter(xml)) {
                pool.accept(new XmlDumpWriter(w));
            }
            Path ours = emptyFile(8 << 20);
            ThinRestore.restore(xml, ours);
            ThinTools.check(ours).requireOk();
            assertEquals(Files.readString(xml), ThinTools.dump(ours, false).requireOk().stdout(), "seed " + seed);
            Path theirs = emptyFile(8 << 20);
            ThinTools.restore(xml, theirs).requireOk();
            assertEquals(ThinTools.lsRows(theirs, "DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS").toString(),
                    ThinTools.lsRows(ours, "DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS").toString(), "seed " + seed);
            CheckReport r = MetadataChecker.check(ours);
            assertTrue(r.isClean(), "seed " + seed + "\n" + r);
        }
    }

    @Test
    void refusesWhatThinRestoreRefuses() throws IOException {
        String head = "<superblock uuid=\"\" time=\"0\" transaction=\"0\" data_block_size=\"128\" nr_data_blocks=\"10\">"
                + "<device dev_id=\"1\" mapped_blocks=\"0\" transaction=\"0\" creation_time=\"0\" snap_time=\"0\">";
        assertRefused(head + "<single_mapping origin_block=\"0\" data_block=\"10\" time=\"0\"/></device></superblock>",
                "beyond end of data device");
        assertRefused(head + "<single_mapping origin_block=\"0\" data_block=\"1\" time=\"0\"/>"
                + "<single_mapping origin_block=\"0\" data_block=\"2\" time=\"0\"/></device></superblock>", "twice");
        assertRefused(head.replace("\"128\"", "\"100\"") + "</device></superblock>", "data block size");
    }

    private void assertRefused(String xml, String message) throws IOException {
        Path meta = emptyFile(1 << 20);
        Path in = tmp.resolve("bad.xml");
        Files.writeString(in, xml);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThinRestore.restore(in, meta));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    static PoolDump randomPool(Random rnd) {
        long nrData = 2000 + rnd.nextInt(3000);
        List<DeviceDump> devices = new ArrayList<>();
        int nDev = 1 + rnd.nextInt(5);
        long id = rnd.nextInt(3);
        for (int d = 0; d < nDev; d++) {
            id += 1 + rnd.nextInt(4);
            MappingList.Builder b = new MappingList.Builder();
            long origin = rnd.nextInt(10);
            int n = rnd.nextInt(1500);
            long data = rnd.nextInt((int) nrData);
            for (int i = 0; i < n; i++) {
                origin += rnd.nextInt(8) == 0 ? 1 + rnd.nextInt(1000) : 1;
                data = rnd.nextInt(6) == 0 ? rnd.nextInt((int) nrData) : (data + 1) % nrData;
                b.add(origin, data, rnd.nextInt(4) == 0 ? rnd.nextInt(5) : 0);
            }
            MappingList m = b.build();
            devices.add(new DeviceDump(new DeviceHeader(id, m.size(), rnd.nextInt(3), rnd.nextInt(3), 4), m));
        }
        return new PoolDump(new PoolHeader("", 5, 7, 0, 2, 128, nrData), devices);
    }

    private Path emptyFile(long size) throws IOException {
        Path p = Files.createTempFile(tmp, "restore", ".meta");
        try (var ch = java.nio.channels.FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.allocate(1), size - 1);
        }
        return p;
    }
}
