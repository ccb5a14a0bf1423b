package org.thinfs.core.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.testing.ThinTools;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Side-by-side speed of thinfs check/dump against thin_check/thin_dump on generated metadata. Off by default:
 * {@code mvn -pl core test -Dtest=ToolsBenchmark -Dthinfs.bench=true [-Dthinfs.bench.mappings=1000000,10000000]}.
 * Results go to the log (stderr) as one line per size.
 */
@EnabledIfSystemProperty(named = "thinfs.bench", matches = "true")
class ToolsBenchmark {
    @Test
    void checkAndDumpSideBySide() throws IOException {
        ThinTools.assumeInstalled();
        for (String n : System.getProperty("thinfs.bench.mappings", "1000000,10000000").split(",")) {
            run(Long.parseLong(n.trim()));
        }
    }

    private static void run(long mappings) throws IOException {
        Path dir = Files.createTempDirectory("thinfs-bench");
        Path meta = dir.resolve("bench.meta");
        try {
            long metaBytes = Math.max(64L << 20, mappings * 48);
            try (FileChannel ch = FileChannel.open(meta, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(1), metaBytes - 1);
            }
            long t0 = System.nanoTime();
            try (BlockDevice dev = FileBlockDevice.open(meta, true)) {
                generate(mappings, new Random(mappings)).accept(new ThinRestore(dev));
            }
            double gen = secs(t0);

            t0 = System.nanoTime();
            ThinTools.Result tc = ThinTools.check(meta);
            double theirCheck = secs(t0);
            assertTrue(tc.ok(), tc.toString());

            t0 = System.nanoTime();
            CheckReport r = MetadataChecker.check(meta);
            double ourCheck = secs(t0);
            assertTrue(r.isClean(), r.toString());

            t0 = System.nanoTime();
            ThinTools.Result td = ThinTools.run("sh", "-c", "thin_dump '" + meta + "' > '" + dir.resolve("theirs.xml")
                    + "'");
            double theirDump = secs(t0);
            assertTrue(td.ok(), td.toString());

            t0 = System.nanoTime();
            try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("ours.xml"), StandardCharsets.UTF_8)) {
                MetadataReader.dump(meta, false, new XmlDumpWriter(w));
            }
            double ourDump = secs(t0);
            assertTrue(Files.mismatch(dir.resolve("theirs.xml"), dir.resolve("ours.xml")) < 0, "dumps differ");

            System.err.printf("BENCH %,d mappings (generated in %.1fs): check thinfs %.2fs vs thin_check %.2fs"
                            + " (%.2fx); dump thinfs %.2fs vs thin_dump %.2fs (%.2fx)%n", mappings, gen, ourCheck,
                    theirCheck, theirCheck / ourCheck, ourDump, theirDump, theirDump / ourDump);
        } finally {
            for (String f : new String[]{"bench.meta", "theirs.xml", "ours.xml"}) {
                Files.deleteIfExists(dir.resolve(f));
            }
            Files.deleteIfExists(dir);
        }
    }

    /**
     * Four devices of {@code mappings / 4} each over as many data blocks as mappings: device 1 maps runs of data
     * blocks with gaps; devices 2 to 4 are copies of it with every eighth mapping moved to a block of their own
     * (snapshots after some copy-on-write), stamped with times 0 to 3.
     */
    static PoolDump generate(long mappings, Random rnd) {
        int per = (int) (mappings / 4);
        long nrData = per + 3L * (per / 8 + 1) + 16;
        MappingList.Builder origin = new MappingList.Builder();
        long v = 0;
        for (int i = 0; i < per; i++) {
            v += rnd.nextInt(32) == 0 ? 2 + rnd.nextInt(100) : 1;
            origin.add(v, i, 0);
        }
        MappingList base = origin.build();
        java.util.List<DeviceDump> devices = new java.util.ArrayList<>();
        devices.add(new DeviceDump(new DeviceHeader(1, per, 0, 0, 3), base));
        long next = per;
        for (int d = 2; d <= 4; d++) {
            MappingList.Builder b = new MappingList.Builder();
            for (int i = 0; i < per; i++) {
                if (i % 8 == d) {
                    b.add(base.origin(i), next++, d - 1);
                } else {
                    b.add(base.origin(i), base.data(i), 0);
                }
            }
            devices.add(new DeviceDump(new DeviceHeader(d, per, 1, d - 1, d - 1), b.build()));
        }
        return new PoolDump(new PoolHeader("", 3, 1, 0, 2, 128, nrData), devices);
    }

    private static double secs(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
