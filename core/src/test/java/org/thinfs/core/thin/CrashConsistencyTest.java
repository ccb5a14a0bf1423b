package org.thinfs.core.thin;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.CrashingBlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.pool.PoolRandomTest;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A crash at every single metadata write of a workload (the process dying, a torn block, or a power cut that loses
 * or reorders the writes since the last flush): reopening must show exactly one committed state — the last one
 * whose superblock reached the disk — and the real thin_check must pass. A small block cache makes the engine
 * write dirty blocks early, in the middle of transactions, so those writes are crashed into too.
 */
class CrashConsistencyTest {
    private static final long SEED = 20261124L;
    private static final int OPS = 120;

    @TempDir
    Path dir;

    /** Runs the deterministic workload; returns the state after each completed commit (index 0 = format). */
    static List<String> workload(BlockDevice dev, List<String> states) {
        Random rnd = new Random(SEED);
        ThinMetadata md = ThinMetadata.format(dev, 128, 4000, 64);
        states.add(RoundTripTest.content(md));
        List<Long> ids = new ArrayList<>();
        long next = 1;
        for (int op = 0; op < OPS; op++) {
            int what = rnd.nextInt(100);
            if (ids.isEmpty() || what < 8) {
                md.createThin(next);
                ids.add(next++);
            } else if (what < 14) {
                md.createSnapshot(next, ids.get(rnd.nextInt(ids.size())));
                ids.add(next++);
            } else if (what < 17 && ids.size() > 1) {
                md.delete(ids.remove(rnd.nextInt(ids.size())));
            } else if (what < 80) {
                long id = ids.get(rnd.nextInt(ids.size()));
                for (int k = 0; k < 40; k++) {
                    md.insert(id, rnd.nextInt(3000), md.dataSpace().allocate());
                }
            } else if (what < 90) {
                long id = ids.get(rnd.nextInt(ids.size()));
                for (int k = 0; k < 20; k++) {
                    md.remove(id, rnd.nextInt(3000));
                }
            } else {
                md.commit();
                states.add(RoundTripTest.content(md));
            }
        }
        md.commit();
        states.add(RoundTripTest.content(md));
        return states;
    }

    @ParameterizedTest
    @EnumSource(CrashingBlockDevice.Mode.class)
    void everyCrashPointRecoversTheLastCommit(CrashingBlockDevice.Mode mode) throws Exception {
        Path meta = dir.resolve("meta");
        // A clean run counts the writes and records every committed state.
        newFile(meta);
        List<String> states = new ArrayList<>();
        long total;
        try (CrashingBlockDevice dev = new CrashingBlockDevice(FileBlockDevice.open(meta, true), -1, mode, 0)) {
            workload(dev, states);
            total = dev.writes();
        }
        assertTrue(total > 200, "the workload writes enough to be interesting: " + total);
        int step = mode == CrashingBlockDevice.Mode.STOP ? 1 : 3;
        int checked = 0;
        for (long n = 1; n <= total; n += step) {
            newFile(meta);
            List<String> done = new ArrayList<>();
            CrashingBlockDevice dev = new CrashingBlockDevice(FileBlockDevice.open(meta, true), n, mode, n);
            try {
                workload(dev, done);
            } catch (CrashingBlockDevice.Crash expected) {
                // the process died here
            }
            dev.close();
            String where = mode + " crash at write " + n + " of " + total;
            if (done.isEmpty()) {
                continue; // the crash hit the format itself: there is no pool yet
            }
            String expect = dev.landedInCrash().contains(0L) && done.size() < states.size()
                    ? states.get(done.size()) : done.get(done.size() - 1);
            String actual;
            try (FileBlockDevice plain = FileBlockDevice.open(meta, false)) {
                actual = RoundTripTest.content(ThinMetadata.open(plain, false, 256));
            }
            assertEquals(expect, actual, where);
            org.thinfs.core.tools.CheckReport report = org.thinfs.core.tools.MetadataChecker.check(meta);
            assertTrue(report.isClean(), where + ": thinfs check found\n" + report);
            if (n % (5 * step) == 1 || dev.landedInCrash().contains(0L)) {
                PoolRandomTest.thinCheck(meta, where);
            }
            checked++;
        }
        assertTrue(checked > 50, "crash points checked: " + checked);
        org.slf4j.LoggerFactory.getLogger(CrashConsistencyTest.class).info("{}: {} crash points of {} writes recovered "
                + "the last commit", mode, checked, total);
    }

    private static void newFile(Path meta) throws Exception {
        Files.deleteIfExists(meta);
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.setLength(2L << 20);
        }
    }
}
