package org.thinfs.core.thin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.StorageIOException;
import org.thinfs.core.io.FaultyBlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.pool.PoolRandomTest;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * EIO from the metadata device at every point of a commit, and on reads: the failing call reports it, nothing
 * committed is damaged, and after the fault clears a rollback and a new commit work.
 */
class IoErrorTest {
    @TempDir
    Path dir;

    @Test
    void writeErrorsDuringCommitLeaveThePreviousCommitIntact() throws Exception {
        Path meta = dir.resolve("meta");
        new RandomAccessFile(meta.toFile(), "rw").setLength(2L << 20);
        int faults = 0;
        for (int failAt = 1; failAt < 40; failAt++) {
            try (FaultyBlockDevice dev = new FaultyBlockDevice(FileBlockDevice.open(meta, true));
                 ThinMetadata md = ThinMetadata.format(dev, 128, 1000, 1024)) {
                Random rnd = new Random(failAt);
                md.createThin(1);
                for (int i = 0; i < 200; i++) {
                    md.insert(1, rnd.nextInt(5000), md.dataSpace().allocate());
                }
                md.commit();
                String committed = RoundTripTest.content(md);
                for (int i = 0; i < 400; i++) {
                    md.insert(1, rnd.nextInt(5000), md.dataSpace().allocate());
                }
                md.createSnapshot(2, 1);
                dev.failWritesAfter(failAt);
                try {
                    md.commit();
                    continue; // the commit wrote fewer blocks than failAt
                } catch (StorageIOException expected) {
                    faults++;
                }
                assertThrows(StorageIOException.class, md::commit, "still failing");
                dev.heal();
                md.abort();
                assertEquals(committed, RoundTripTest.content(md), "rolled back to the last commit, fault at " + failAt);
                md.insert(1, 7, md.dataSpace().allocate());
                md.commit();
            }
            PoolRandomTest.thinCheck(meta, "after EIO at write " + failAt);
            assertTrue(org.thinfs.core.tools.MetadataChecker.check(meta).isClean());
        }
        assertTrue(faults > 10, "faults injected into commits: " + faults);
    }

    @Test
    void readErrorsAreReportedAndChangeNothing() throws Exception {
        Path meta = dir.resolve("meta");
        new RandomAccessFile(meta.toFile(), "rw").setLength(2L << 20);
        try (ThinMetadata md = ThinMetadata.format(FileBlockDevice.open(meta, true), 128, 4000, 64)) {
            md.createThin(1);
            for (int i = 0; i < 3000; i++) {
                md.insert(1, i * 3L, md.dataSpace().allocate());
            }
            md.commit();
        }
        String before = RoundTripTest.content(meta);
        try (FaultyBlockDevice dev = new FaultyBlockDevice(FileBlockDevice.open(meta, false))) {
            ThinMetadata md = ThinMetadata.open(dev, false, 64);
            dev.failReadsAfter(3);
            assertThrows(StorageIOException.class, () -> RoundTripTest.content(md));
            dev.heal();
            assertEquals(before, RoundTripTest.content(md));
        }
    }
}
