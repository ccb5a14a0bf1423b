package org.thinfs.core.pool;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.format.DeviceDetails;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Long random sequences of create, snapshot (also of snapshots), delete, write, discard, commit and reopen against
 * {@link PoolModel}. After commits the real thin_check must pass, and at every check the data space map must count
 * exactly the data blocks some device maps. Failures name the seed and the operation number.
 */
public class PoolRandomTest {
    private static final int BLOCK = 64 * 1024;
    private static final long VOLUME_BLOCKS = 600;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(longs = {7, 8, 9, 10})
    void randomWorkloadMatchesModel(long seed) throws Exception {
        Random rnd = new Random(seed);
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        // Odd seeds get a pool small enough to run out of data space, so that path is exercised.
        long dataBlocks = seed % 2 == 1 ? 250 : 700;
        int outOfSpace = 0;
        PoolModel model = new PoolModel(BLOCK);
        // Seeds 9 and 10 get a metadata device of three space-map bitmaps (sparse), as every pool of more than
        // about 32 GiB has by default: commits that leave the upper bitmaps alone must keep their index entries.
        long metadataSize = seed >= 9 ? (2L * 16320 + 100) * 4096 : 4L << 20;
        // Even seeds get the smallest metadata cache (64 blocks), so clean blocks are evicted inside operations.
        PoolOptions options = seed % 2 == 0 ? PoolOptions.DEFAULT.withCacheBlocks(64) : PoolOptions.DEFAULT;
        ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, dataBlocks * BLOCK, metadataSize),
                options);
        long nextId = 1;
        int ops = 1500;
        try {
            for (int op = 0; op < ops; op++) {
                String where = "seed " + seed + " op " + op;
                List<Long> ids = new ArrayList<>(model.devices.keySet());
                int what = rnd.nextInt(100);
                if (ids.isEmpty() || what < 4) {
                    pool.createThin(nextId);
                    model.create(nextId++);
                } else if (what < 8 && ids.size() < 8) {
                    long origin = ids.get(rnd.nextInt(ids.size()));
                    pool.createSnapshot(nextId, origin);
                    model.snapshot(nextId++, origin);
                } else if (what < 10 && ids.size() > 1) {
                    long id = ids.get(rnd.nextInt(ids.size()));
                    pool.delete(id);
                    model.delete(id);
                } else if (what < 60) {
                    long id = ids.get(rnd.nextInt(ids.size()));
                    long off = rnd.nextLong(VOLUME_BLOCKS * BLOCK - 4 * BLOCK);
                    if (rnd.nextBoolean()) {
                        off -= off % BLOCK;
                    }
                    byte[] buf = new byte[1 + rnd.nextInt(3 * BLOCK)];
                    rnd.nextBytes(buf);
                    try {
                        pool.device(id).write(off, ByteBuffer.wrap(buf));
                        model.write(id, off, buf);
                    } catch (OutOfDataSpaceException e) {
                        // Nothing of the request may have landed: the model stays as it is and reads must agree.
                        outOfSpace++;
                        verifyRange(pool, model, id, off, buf.length, where);
                    }
                } else if (what < 68) {
                    long id = ids.get(rnd.nextInt(ids.size()));
                    long off = rnd.nextLong(VOLUME_BLOCKS * BLOCK / 2);
                    long len = 1 + rnd.nextLong(VOLUME_BLOCKS * BLOCK / 4);
                    try {
                        pool.device(id).discard(off, len);
                        model.discard(id, off, len);
                    } catch (OutOfDataSpaceException e) {
                        // Zeroing a shared partial edge needs a new block. The edges are zeroed before any whole
                        // block is unmapped, so only the two edge blocks may have changed: take them from the pool.
                        resyncBlock(pool, model, id, off / BLOCK);
                        resyncBlock(pool, model, id, (off + len - 1) / BLOCK);
                    }
                } else if (what < 90) {
                    long id = ids.get(rnd.nextInt(ids.size()));
                    long off = rnd.nextLong(VOLUME_BLOCKS * BLOCK - 4 * BLOCK);
                    verifyRange(pool, model, id, off, 1 + rnd.nextInt(3 * BLOCK), where);
                } else if (what < 97) {
                    pool.commit();
                    if (rnd.nextInt(4) == 0) {
                        thinCheck(meta, where);
                    }
                } else {
                    pool.close();
                    thinCheck(meta, where);
                    pool = ThinPool.open(meta, data, options);
                    assertDumpMatchesEngine(meta, pool, where);
                }
                if (op % 250 == 0 || op == ops - 1) {
                    verifyAll(pool, model, where);
                }
            }
        } finally {
            pool.close();
        }
        thinCheck(meta, "seed " + seed + " end");
        if (dataBlocks < 300) {
            assertTrue(outOfSpace > 0, "the small pool never ran out of space; the test lost its point");
        }
    }

    /** thin_dump's devices, details and every mapping equal what the engine holds. */
    private static void assertDumpMatchesEngine(Path meta, ThinPool pool, String where) {
        org.thinfs.core.tools.PoolDump dump = org.thinfs.core.testing.ThinTools.dumpIr(meta, false);
        assertEquals(pool.deviceIds().size(), dump.devices().size(), where);
        for (org.thinfs.core.tools.DeviceDump d : dump.devices()) {
            DeviceDetails det = pool.maps().details(d.devId());
            assertEquals(det.mappedBlocks(), d.mappings().size(), where + ": mappings of device " + d.devId());
            List<long[]> engine = new ArrayList<>();
            pool.maps().forEachMapping(d.devId(), 0, Long.MAX_VALUE, (v, b, t) -> engine.add(new long[]{v, b, t}));
            for (int i = 0; i < engine.size(); i++) {
                long[] e = engine.get(i);
                assertEquals(e[0], d.mappings().origin(i), where);
                assertEquals(e[1], d.mappings().data(i), where);
                assertEquals(e[2], d.mappings().time(i), where);
            }
        }
    }

    private static void resyncBlock(ThinPool pool, PoolModel model, long id, long vb) {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        pool.device(id).read(vb * BLOCK, b);
        if (pool.device(id).mappedDataBlock(vb) < 0) {
            model.devices.get(id).remove(vb);
        } else {
            model.devices.get(id).put(vb, b.array());
        }
    }

    private static void verifyRange(ThinPool pool, PoolModel model, long id, long off, int len, String where) {
        ByteBuffer got = ByteBuffer.allocate(len);
        pool.device(id).read(off, got);
        assertArrayEquals(model.read(id, off, len), got.array(), where + ": device " + id + " at " + off);
    }

    private static void verifyAll(ThinPool pool, PoolModel model, String where) {
        assertEquals(model.devices.keySet(), pool.deviceIds(), where);
        Set<Long> dataBlocks = new HashSet<>();
        for (Map.Entry<Long, Map<Long, byte[]>> e : model.devices.entrySet()) {
            long id = e.getKey();
            ThinDevice d = pool.device(id);
            long mapped = 0;
            ByteBuffer buf = ByteBuffer.allocate(BLOCK);
            for (long vb = 0; vb < VOLUME_BLOCKS; vb++) {
                long db = d.mappedDataBlock(vb);
                if (db >= 0) {
                    mapped++;
                    dataBlocks.add(db);
                }
                byte[] expect = e.getValue().get(vb);
                if (expect == null && db < 0) {
                    continue;
                }
                buf.clear();
                d.read(vb * BLOCK, buf);
                assertArrayEquals(expect == null ? new byte[BLOCK] : expect, buf.array(),
                        where + ": device " + id + " block " + vb);
            }
            DeviceDetails det = pool.maps().details(id);
            assertEquals(mapped, det.mappedBlocks(), where + ": mapped_blocks of device " + id);
        }
        assertEquals(dataBlocks.size(), pool.usage().dataBlocksUsed(),
                where + ": data blocks in use must equal the distinct blocks mapped");
    }

    public static void thinCheck(Path meta, String where) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("thin_check", meta.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "thin_check timed out");
        assertEquals(0, p.exitValue(), where + ": thin_check failed:\n" + out);
    }
}
