package org.thinfs.core.sm;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.OutOfMetadataSpaceException;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.io.BlockManager;
import org.thinfs.core.io.MemoryBlockDevice;
import org.thinfs.core.sm.disk.DiskSpaceMap;
import org.thinfs.core.tm.TransactionManager;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@link SpaceMap} contract, written once and run on the in-memory map and both persistent maps. */
class SpaceMapContractTest {
    /** A map under test plus a way to commit it. */
    record Subject(String name, SpaceMap map, Runnable commit) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final int SIZE = 40000;

    static Stream<Arguments> maps() {
        return Stream.of(
                Arguments.of((Supplier<Subject>) () -> {
                    CoreSpaceMap m = new CoreSpaceMap("core", SIZE, () -> new OutOfMetadataSpaceException("full"));
                    return new Subject("core", m, m::markCommitted);
                }),
                Arguments.of((Supplier<Subject>) () -> {
                    DiskSpaceMap meta = DiskSpaceMap.newMetadata(4096);
                    TransactionManager tm = new TransactionManager(
                            new BlockManager(new MemoryBlockDevice(4096), 256, true), meta);
                    meta.attachNew(tm);
                    DiskSpaceMap data = DiskSpaceMap.formatData(tm, SIZE);
                    return new Subject("data", data, () -> {
                        data.commit();
                        meta.commit();
                        tm.blocks().flush();
                        tm.endTransaction();
                        data.markCommitted();
                        meta.markCommitted();
                    });
                }));
    }

    @ParameterizedTest
    @MethodSource("maps")
    void neverHandsOutABlockTwice(Supplier<Subject> s) {
        SpaceMap m = s.get().map();
        Set<Long> seen = new HashSet<>();
        long free = m.nrFree();
        for (int i = 0; i < free; i++) {
            assertTrue(seen.add(m.allocate()));
        }
        assertEquals(0, m.nrFree());
        assertThrows(ThinfsException.class, m::allocate);
    }

    @ParameterizedTest
    @MethodSource("maps")
    void freedBlockIsNotReusedBeforeCommit(Supplier<Subject> supplier) {
        Subject s = supplier.get();
        SpaceMap m = s.map();
        long b = m.allocate();
        s.commit().run();
        long before = m.nrFree();
        m.dec(b);
        assertEquals(0, m.count(b));
        assertEquals(before, m.nrFree(), "a block freed in this transaction is not allocatable yet");
        for (long i = 0; i < before; i++) {
            assertTrue(m.allocate() != b);
        }
        assertThrows(ThinfsException.class, m::allocate);
        s.commit().run();
        assertEquals(1, m.nrFree());
        assertEquals(b, m.allocate());
    }

    @ParameterizedTest
    @MethodSource("maps")
    void incAndDecTrackCountsAboveTwo(Supplier<Subject> supplier) {
        SpaceMap m = supplier.get().map();
        long b = m.allocate();
        for (int i = 2; i <= 1000; i++) {
            m.inc(b);
            assertEquals(i, m.count(b));
            assertEquals(i > 1, m.countIsMoreThanOne(b));
        }
        for (int i = 999; i >= 0; i--) {
            m.dec(b);
            assertEquals(i, m.count(b));
        }
        assertThrows(CorruptMetadataException.class, () -> m.dec(b));
    }

    @ParameterizedTest
    @MethodSource("maps")
    void extendAddsFreeBlocksAndThresholdFires(Supplier<Subject> supplier) {
        Subject s = supplier.get();
        SpaceMap m = s.map();
        int[] fired = {0};
        m.setThreshold(10, () -> fired[0]++);
        long free = m.nrFree();
        for (long i = 0; i < free - 11; i++) {
            m.allocate();
        }
        assertEquals(0, fired[0]);
        m.allocate();
        assertEquals(1, fired[0]);
        m.allocate();
        assertEquals(1, fired[0], "fires once per crossing");
        long n = m.nrBlocks();
        m.extend(100);
        assertEquals(n + 100, m.nrBlocks());
        assertEquals(109, m.nrFree());
        s.commit().run();
        assertEquals(109, m.nrFree());
    }

    /**
     * Random counts (many above 2) survive commit and reopen of the persistent maps exactly. The metadata map spans
     * three bitmaps while allocation stays in the first, so later commits leave the other index entries unchanged:
     * they must still name their bitmaps.
     */
    @ParameterizedTest
    @MethodSource("seeds")
    void persistentCountsRoundTrip(long seed) {
        Random rnd = new Random(seed);
        int metaBlocks = 2 * 16320 + 500;
        MemoryBlockDevice dev = new MemoryBlockDevice(metaBlocks);
        DiskSpaceMap meta = DiskSpaceMap.newMetadata(metaBlocks);
        BlockManager bm = new BlockManager(dev, 128, true);
        TransactionManager tm = new TransactionManager(bm, meta);
        meta.attachNew(tm);
        DiskSpaceMap data = DiskSpaceMap.formatData(tm, 3 * 16320 + 77);
        Map<Long, Integer> model = new HashMap<>();
        SpaceMapRoot dataRoot = null;
        SpaceMapRoot metaRoot = null;
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 3000; i++) {
                long b = rnd.nextLong(data.nrBlocks());
                int c = rnd.nextInt(10) == 0 ? 3 + rnd.nextInt(300) : rnd.nextInt(3);
                data.setCount(b, c);
                model.put(b, c);
            }
            dataRoot = data.commit();
            metaRoot = meta.commit();
            bm.flush();
            tm.endTransaction();
            data.markCommitted();
            meta.markCommitted();
        }
        long metaAllocated = meta.nrAllocated();
        // Reopen from the roots alone.
        DiskSpaceMap meta2 = DiskSpaceMap.existingMetadata(metaRoot, metaBlocks);
        BlockManager bm2 = new BlockManager(dev, 128, false);
        TransactionManager tm2 = new TransactionManager(bm2, meta2);
        meta2.attachExisting(tm2);
        DiskSpaceMap data2 = DiskSpaceMap.openData(tm2, dataRoot);
        for (Map.Entry<Long, Integer> e : model.entrySet()) {
            assertEquals(e.getValue(), data2.count(e.getKey()), "seed " + seed + " block " + e.getKey());
        }
        assertEquals(data.nrAllocated(), data2.nrAllocated());
        assertEquals(metaAllocated, meta2.nrAllocated());
        for (long b = 0; b < metaBlocks; b++) {
            assertEquals(meta.count(b), meta2.count(b), "metadata block " + b);
        }
        assertFalse(data2.nrFree() < 0);
        // What each bitmap's index entry records (nr_free, first free), against the counts, before and after.
        for (CoreSpaceMap m : new CoreSpaceMap[] {data, data2}) {
            for (int k = 0; k < m.chunkCount(); k++) {
                int free = 0;
                int first = m.entriesIn(k);
                for (int i = m.entriesIn(k) - 1; i >= 0; i--) {
                    if (m.count((long) k * 16320 + i) == 0) {
                        free++;
                        first = i;
                    }
                }
                assertEquals(free, m.freeEntries(k), "seed " + seed + " bitmap " + k + " free entries");
                assertEquals(first, m.firstFree(k), "seed " + seed + " bitmap " + k + " first free");
            }
        }
    }

    static Stream<Long> seeds() {
        return Stream.of(1L, 2L, 3L);
    }
}
