package org.thinfs.core.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.testing.ThinTools;
import org.thinfs.core.thin.ThinMetadata;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Metadata written by the engine (snapshots sharing subtrees, copy-on-write, deletes, a held metadata snapshot):
 * thinfs check and thin_check give the same verdict, and thinfs dump equals thin_dump, live and through -m.
 */
class EngineMetadataCheckTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void randomOperationsOnEveryVector(Path meta) throws IOException {
        ThinTools.assumeInstalled();
        Path copy = tmp.resolve("m");
        Files.copy(meta, copy);
        copy.toFile().setWritable(true);
        long seed = meta.getFileName().toString().hashCode();
        mutate(copy, new Random(seed));
        assertSameVerdictAndDump(copy, meta + " seed " + seed);
    }

    @Test
    void freshPools() throws IOException {
        ThinTools.assumeInstalled();
        for (long seed = 100; seed < 104; seed++) {
            Path meta = tmp.resolve("fresh" + seed);
            try (var ch = java.nio.channels.FileChannel.open(meta, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.allocate(1), (8 << 20) - 1);
            }
            ThinMetadata.format(FileBlockDevice.open(meta, true), 128, 3000, 1024).close();
            mutate(meta, new Random(seed));
            assertSameVerdictAndDump(meta, "fresh pool seed " + seed);
        }
    }

    /**
     * Deep trees: pools whose mapping and details trees are made of nodes of 3, 6 and 15 entries, so thousands of
     * mappings give trees of many levels with internal splits and internal rebalancing, and thin_check must accept
     * them (it reads each node's own max_entries) and dump them as thinfs does.
     */
    @ParameterizedTest(name = "nodes of {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {3, 6, 15})
    void smallNodePools(int nodeEntries) throws IOException {
        ThinTools.assumeInstalled();
        Path meta = tmp.resolve("small" + nodeEntries);
        try (var ch = java.nio.channels.FileChannel.open(meta, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(1), (128 << 20) - 1);
        }
        long seed = 200 + nodeEntries;
        try (ThinMetadata md = ThinMetadata.format(FileBlockDevice.open(meta, true), 128, 20000, 1024,
                nodeEntries)) {
            Random rnd = new Random(seed);
            for (int round = 0; round < 4; round++) {
                mutate(md, rnd, 1200, 2000);
            }
        }
        assertSameVerdictAndDump(meta, "nodes of " + nodeEntries + ", seed " + seed);
        int depth = depthAlongFirstKeys(meta);
        assertTrue(depth >= (nodeEntries == 15 ? 4 : 6), "nodes of " + nodeEntries + " made a tree of only " + depth
                + " levels (top level and first device), too shallow to reach internal splits");
    }

    /** Levels from the superblock's mapping root down its first keys, through the first device's tree. */
    private static int depthAlongFirstKeys(Path meta) throws IOException {
        try (var dev = FileBlockDevice.open(meta, false)) {
            long nr = MetadataReader.open(dev, false).superblock().dataMappingRoot();
            int levels = 0;
            for (int tree = 0; tree < 2; tree++) {
                while (true) {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    dev.read(nr, b);
                    org.thinfs.core.btree.Node n = new org.thinfs.core.btree.Node(b, nr);
                    levels++;
                    nr = n.valueLong(0);
                    if (n.isLeaf()) {
                        break;      // the top level's leaf value is the first device's root
                    }
                }
            }
            return levels;
        }
    }

    private static void mutate(Path meta, Random rnd) throws IOException {
        try (ThinMetadata md = ThinMetadata.open(FileBlockDevice.open(meta, true), true, 1024)) {
            mutate(md, rnd, 600, 700);
        }
    }

    /** {@code ops} random operations over virtual blocks below {@code span}, committed now and then. */
    private static void mutate(ThinMetadata md, Random rnd, int ops, int span) {
        {
            if (md.heldRoot() != 0 && rnd.nextBoolean()) {
                md.releaseMetadataSnapshot();
            }
            List<Long> ids = new ArrayList<>(md.deviceIds());
            long next = ids.isEmpty() ? 1 : ids.get(ids.size() - 1) + 1;
            md.createThin(next);
            ids.add(next++);
            for (int i = 0; i < ops && md.dataSpace().nrFree() > 0; i++) {
                long id = ids.get(rnd.nextInt(ids.size()));
                int op = rnd.nextInt(20);
                if (op == 0) {
                    md.createSnapshot(next, id);
                    ids.add(next++);
                } else if (op == 1 && ids.size() > 1) {
                    md.delete(ids.remove(rnd.nextInt(ids.size())));
                } else if (op < 6) {
                    md.remove(id, rnd.nextInt(span));
                } else {
                    md.insert(id, rnd.nextInt(span), md.dataSpace().allocate());
                }
                if (i % 150 == 149) {
                    md.commit();
                }
                if (i == ops / 2 && md.heldRoot() == 0) {
                    md.reserveMetadataSnapshot();
                }
            }
            md.commit();
        }
    }

    private static void assertSameVerdictAndDump(Path meta, String where) throws IOException {
        CheckReport ours = MetadataChecker.check(meta);
        ThinTools.Result theirs = ThinTools.check(meta);
        assertEquals(theirs.ok(), ours.isClean(), where + "\n" + ours + "\n" + theirs);
        assertTrue(ours.isClean(), where + "\n" + ours);
        StringWriter dump = new StringWriter();
        MetadataReader.dump(meta, false, new XmlDumpWriter(dump));
        assertEquals(ThinTools.dump(meta, false).requireOk().stdout(), dump.toString(), where);
        if (held(meta)) {
            StringWriter snap = new StringWriter();
            MetadataReader.dump(meta, true, new XmlDumpWriter(snap));
            assertEquals(ThinTools.dump(meta, true).requireOk().stdout(), snap.toString(), where + " -m");
        }
    }

    private static boolean held(Path meta) throws IOException {
        try (var dev = FileBlockDevice.open(meta, false)) {
            return MetadataReader.open(dev, false).superblock().heldRoot() != 0;
        }
    }
}
