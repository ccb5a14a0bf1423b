package org.thinfs.core.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.testing.TestVectors;
import org.thinfs.core.testing.ThinTools;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** thinfs ls and delta agree with the thin_ls/thin_delta vectors and with the real tools. */
class LsDeltaTest {
    private static final String LS_FIELDS = "DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS,TRANSACTION,"
            + "CREATE_TIME,SNAP_TIME";

    static List<Path> lsVectors() {
        List<Path> l = TestVectors.withSuffix(".ls.txt");
        assertEquals(4, l.size(), l.toString());
        return l;
    }

    @ParameterizedTest
    @MethodSource("lsVectors")
    void lsMatchesTheVector(Path ls) throws IOException {
        String name = ls.getFileName().toString().replace(".ls.txt", ".meta");
        Path meta = ls.resolveSibling(name);
        List<LsRow> rows;
        try (BlockDevice dev = FileBlockDevice.open(meta, false)) {
            rows = ThinLs.compute(MetadataReader.open(dev, false));
        }
        String text = Files.readString(ls);
        assertEquals(toRows(ThinTools.parseLs(text)), rows, ls.toString());
        assertEquals(rows, ThinLs.compute(MetadataReader.read(meta, false)), "from the IR");
        assertEquals(text, ThinLs.format(rows), "the grid layout");
    }

    /** Every vector, including the kernel's and through the metadata snapshot, against the real thin_ls. */
    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void lsMatchesThinLs(Path meta) throws IOException {
        ThinTools.assumeInstalled();
        try (BlockDevice dev = FileBlockDevice.open(meta, false)) {
            assertEquals(toRows(ThinTools.lsRows(meta, LS_FIELDS)), ThinLs.compute(MetadataReader.open(dev, false)));
            if (MetadataReader.open(dev, false).superblock().heldRoot() != 0) {
                List<ThinTools.LsRow> want = ThinTools.parseLs(ThinTools.run("thin_ls", "-m", "--format",
                        LS_FIELDS, meta.toString()).requireOk().stdout());
                assertEquals(toRows(want), ThinLs.compute(MetadataReader.open(dev, true)), "thin_ls -m");
            }
        }
    }

    static List<LsRow> toRows(List<ThinTools.LsRow> rows) {
        List<LsRow> out = new ArrayList<>();
        for (ThinTools.LsRow r : rows) {
            out.add(new LsRow(r.number("DEV"), r.number("MAPPED_BLOCKS"), r.number("EXCLUSIVE_BLOCKS"),
                    r.number("SHARED_BLOCKS"), r.number("TRANSACTION"), r.number("CREATE_TIME"),
                    r.number("SNAP_TIME")));
        }
        return out;
    }

    static List<Path> deltaVectors() {
        List<Path> l = TestVectors.withSuffix(".xml").stream()
                .filter(p -> p.getFileName().toString().contains(".delta-")).toList();
        assertEquals(4, l.size(), l.toString());
        return l;
    }

    @ParameterizedTest
    @MethodSource("deltaVectors")
    void deltaMatchesTheVector(Path delta) throws IOException {
        String n = delta.getFileName().toString();
        Path meta = delta.resolveSibling(n.substring(0, n.indexOf(".delta-")) + ".meta");
        String[] ids = n.substring(n.indexOf(".delta-") + 7, n.length() - 4).split("-");
        assertEquals(Files.readString(delta), delta(meta, false, Long.parseLong(ids[0]), Long.parseLong(ids[1])));
    }

    /** Every pair of devices of every vector (both directions, and through the metadata snapshot). */
    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void deltaMatchesThinDeltaOnEveryPair(Path meta) throws IOException {
        ThinTools.assumeInstalled();
        for (boolean snap : new boolean[]{false, true}) {
            List<Long> ids;
            try (BlockDevice dev = FileBlockDevice.open(meta, false)) {
                MetadataReader r = MetadataReader.open(dev, false);
                if (snap && r.superblock().heldRoot() == 0) {
                    continue;
                }
                ids = new ArrayList<>((snap ? MetadataReader.open(dev, true) : r).deviceRoots().keySet());
            }
            for (long a : ids) {
                for (long b : ids) {
                    String[] opts = snap ? new String[]{"-m"} : new String[0];
                    ThinTools.Result want = ThinTools.delta(meta, a, b, opts).requireOk();
                    assertEquals(want.stdout(), delta(meta, snap, a, b), meta + " " + a + " " + b + " snap " + snap);
                }
            }
        }
    }

    @Test
    void deltaOfRandomDevicesMatchesABlockByBlockModel() {
        Random rnd = new Random(42);
        for (int round = 0; round < 200; round++) {
            TreeMap<Long, Long> a = randomDevice(rnd);
            TreeMap<Long, Long> b = rnd.nextBoolean() ? randomDevice(rnd) : mutate(a, rnd);
            List<DeltaRange> ranges = ThinDelta.compute(list(a), list(b));
            TreeMap<Long, DeltaRange.Kind> got = new TreeMap<>();
            long prevEnd = -1;
            for (DeltaRange r : ranges) {
                assertTrue(r.begin() >= prevEnd && r.length() > 0, "round " + round + ": " + ranges);
                prevEnd = r.end();
                for (long v = r.begin(); v < r.end(); v++) {
                    got.put(v, r.kind());
                }
            }
            TreeMap<Long, DeltaRange.Kind> want = new TreeMap<>();
            for (long v : a.keySet()) {
                want.put(v, !b.containsKey(v) ? DeltaRange.Kind.LEFT_ONLY
                        : b.get(v).equals(a.get(v)) ? DeltaRange.Kind.SAME : DeltaRange.Kind.DIFFERENT);
            }
            for (long v : b.keySet()) {
                want.putIfAbsent(v, DeltaRange.Kind.RIGHT_ONLY);
            }
            assertEquals(want, got, "seed 42 round " + round);
        }
    }

    private static TreeMap<Long, Long> randomDevice(Random rnd) {
        TreeMap<Long, Long> m = new TreeMap<>();
        int n = rnd.nextInt(60);
        long d = rnd.nextInt(50);
        for (int i = 0; i < n; i++) {
            m.put((long) rnd.nextInt(100), rnd.nextInt(3) == 0 ? (long) rnd.nextInt(200) : d++);
        }
        return m;
    }

    private static TreeMap<Long, Long> mutate(TreeMap<Long, Long> a, Random rnd) {
        TreeMap<Long, Long> m = new TreeMap<>(a);
        for (int i = rnd.nextInt(10); i > 0; i--) {
            long v = rnd.nextInt(100);
            if (rnd.nextBoolean()) {
                m.remove(v);
            } else {
                m.put(v, (long) rnd.nextInt(200));
            }
        }
        return m;
    }

    private static MappingList list(TreeMap<Long, Long> m) {
        MappingList.Builder b = new MappingList.Builder();
        m.forEach((o, d) -> b.add(o, d, 0));
        return b.build();
    }

    static String delta(Path meta, boolean snap, long a, long b) throws IOException {
        try (BlockDevice dev = FileBlockDevice.open(meta, false)) {
            MetadataReader live = MetadataReader.open(dev, false);
            MetadataReader r = snap ? MetadataReader.open(dev, true) : live;
            StringWriter w = new StringWriter();
            ThinDelta.writeXml(w, r, snap ? 0 : live.superblock().heldRoot(), a, b);
            return w.toString();
        }
    }
}
