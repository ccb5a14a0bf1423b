package org.thinfs.core.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.btree.Node;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.testing.ThinTools;
import org.thinfs.core.thin.ThinMetadata;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A damaged leaf costs only its own mappings: the repaired file passes thin_check and keeps everything else. */
class ThinRepairTest {
    @TempDir
    Path dir;

    @Test
    void repairSalvagesAroundADamagedLeaf() throws Exception {
        Path meta = dir.resolve("in.meta");
        new RandomAccessFile(meta.toFile(), "rw").setLength(4L << 20);
        long leaf = -1;
        try (ThinMetadata md = ThinMetadata.format(FileBlockDevice.open(meta, true), 128, 20000, 1024)) {
            md.createThin(1);
            md.createThin(2);
            Random rnd = new Random(4);
            for (int i = 0; i < 2000; i++) {
                md.insert(1, i, md.dataSpace().allocate());
                md.insert(2, 100000 + rnd.nextInt(100000), md.dataSpace().allocate());
            }
            md.commit();
            // A leaf of device 1's tree: it maps virtual block 1000.
            for (long b = 1; b < md.metadataSpace().nrBlocks() && leaf < 0; b++) {
                if (md.metadataSpace().count(b) == 0) {
                    continue;
                }
                ByteBuffer raw = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
                try (FileBlockDevice dev = FileBlockDevice.open(meta, false)) {
                    dev.read(b, raw);
                }
                Node n = new Node(raw, b);
                if (raw.getInt(0) != 0 && (n.flags() == Node.LEAF) && n.valueSize() == 8 && n.nrEntries() > 0
                        && n.key(0) <= 1000 && n.key(n.nrEntries() - 1) >= 1000) {
                    leaf = b;
                }
            }
        }
        assertTrue(leaf > 0, "found a leaf of device 1");
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.seek(leaf * 4096 + 2000);
            f.write(0x77);
        }
        assertFalse(MetadataChecker.check(meta).isClean());
        Path out = dir.resolve("out.meta");
        new RandomAccessFile(out.toFile(), "rw").setLength(4L << 20);
        ThinRepair.Report report = ThinRepair.repair(meta, out);
        String damaged = "block " + leaf;
        assertTrue(report.problems().stream().anyMatch(p -> p.contains(damaged)), report.toString());
        assertEquals(0, ThinTools.check(out).exitCode());
        assertTrue(MetadataChecker.check(out).isClean());
        PoolDump d = MetadataReader.read(out, false);
        assertEquals(2, d.devices().size());
        long dev1 = d.devices().get(0).mappings().size();
        long dev2 = d.devices().get(1).mappings().size();
        assertTrue(dev1 < 2000 && dev1 >= 2000 - 252, "device 1 lost one leaf only: " + dev1);
        assertTrue(dev2 > 1900, "device 2 is whole: " + dev2);
        assertThrows(ThinfsException.class, () -> ThinRepair.repair(meta, meta), "never over its input");
    }
}
