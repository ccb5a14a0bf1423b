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

    private static void mutate(Path meta, Random rnd) throws IOException {
        try (ThinMetadata md = ThinMetadata.open(FileBlockDevice.open(meta, true), true, 1024)) {
            if (md.heldRoot() != 0 && rnd.nextBoolean()) {
                md.releaseMetadataSnapshot();
            }
            List<Long> ids = new ArrayList<>(md.deviceIds());
            long next = ids.isEmpty() ? 1 : ids.get(ids.size() - 1) + 1;
            md.createThin(next);
            ids.add(next++);
            for (int i = 0; i < 600 && md.dataSpace().nrFree() > 0; i++) {
                long id = ids.get(rnd.nextInt(ids.size()));
                int op = rnd.nextInt(20);
                if (op == 0) {
                    md.createSnapshot(next, id);
                    ids.add(next++);
                } else if (op == 1 && ids.size() > 1) {
                    md.delete(ids.remove(rnd.nextInt(ids.size())));
                } else if (op < 6) {
                    md.remove(id, rnd.nextInt(700));
                } else {
                    md.insert(id, rnd.nextInt(700), md.dataSpace().allocate());
                }
                if (i % 150 == 149) {
                    md.commit();
                }
                if (i == 300 && md.heldRoot() == 0) {
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
