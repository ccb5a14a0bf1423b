package org.thinfs.fs.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinPool;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The namespace against a model, without a mount: seeded random create, write, link, rename (over existing names
 * too), snapshot sets (all volumes or some), rename of sets, delete, truncate, and refusals, on a real pool in
 * files, reopened every so often to check that every name and byte survived the commits, and copied right after an
 * fsync as a crash would leave it (names, sizes and times must survive: the commits and the times log). Each volume
 * holds an 8-byte tag at offset 0 that the model tracks, so a name pointing at the wrong device is caught.
 */
class NamespaceModelTest {
    private static final int BLOCK = 64 * 1024;
    private static final String[] NAMES = {"a", "b", "c", "d", "e"};
    private static final String[] SETS = {"s1", "s2", "s3"};

    @TempDir
    Path dir;

    /** What a volume should be: its size and the tag at offset 0 (0 when unwritten). */
    private record Vol(long size, long tag) {
    }

    private final TreeMap<String, Vol> volumes = new TreeMap<>();
    private final TreeMap<String, TreeMap<String, Vol>> sets = new TreeMap<>();
    private PoolFileSystem fs;

    private PoolFileSystem open() throws Exception {
        ThinPool tp = ThinPool.open(dir.resolve("metadata"), dir.resolve("data"), PoolOptions.DEFAULT);
        return PoolFileSystem.open(tp, dir);
    }

    @Test
    void randomNamespaceOperationsMatchTheModel() throws Exception {
        for (long seed : new long[]{1, 2, 3, 4}) {
            run(seed, 400);
        }
    }

    private void run(long seed, int ops) throws Exception {
        for (Path f : new Path[]{dir.resolve("metadata"), dir.resolve("data"), dir.resolve("catalog.0.json"),
                dir.resolve("catalog.1.json"), dir.resolve("times.0.json"), dir.resolve("times.1.json")}) {
            Files.deleteIfExists(f);
        }
        volumes.clear();
        sets.clear();
        Files.createFile(dir.resolve("data"));
        ThinPool.create(dir.resolve("metadata"), dir.resolve("data"), new PoolConfig(BLOCK, 4096L * BLOCK, 8L << 20),
                PoolOptions.DEFAULT).close();
        fs = open();
        Random rnd = new Random(seed);
        long nextTag = 1;
        try {
            for (int op = 0; op < ops; op++) {
                String where = "seed " + seed + ", operation " + op;
                String a = NAMES[rnd.nextInt(NAMES.length)];
                String b = NAMES[rnd.nextInt(NAMES.length)];
                String set = SETS[rnd.nextInt(SETS.length)];
                int kind = rnd.nextInt(13);
                try {
                    switch (kind) {
                        case 0 -> expect(volumes.containsKey(a) ? FsException.Code.EEXIST : null, where, () -> {
                            fs.createVolume("/" + a, 0644);
                            volumes.put(a, new Vol(0, 0));
                        });
                        case 1, 2 -> {
                            if (volumes.containsKey(a)) {
                                long tag = nextTag++;
                                write(a, tag);
                                volumes.put(a, new Vol(Math.max(volumes.get(a).size(), 8), tag));
                            }
                        }
                        case 3 -> {
                            long size = (long) rnd.nextInt(4) * BLOCK + rnd.nextInt(2);
                            if (volumes.containsKey(a)) {
                                fs.truncate("/" + a, size);
                                // a size under 8 cuts the tag off; growing again reads zeros there
                                volumes.put(a, new Vol(size, size < 8 ? 0 : volumes.get(a).tag()));
                            } else {
                                expect(FsException.Code.ENOENT, where, () -> fs.truncate("/" + a, size));
                            }
                        }
                        case 4 -> expect(!volumes.containsKey(a) ? FsException.Code.ENOENT
                                : volumes.containsKey(b) ? FsException.Code.EEXIST : null, where, () -> {
                            fs.link("/" + a, "/" + b);
                            volumes.put(b, volumes.get(a));
                        });
                        case 5 -> expect(volumes.containsKey(a) ? null : FsException.Code.ENOENT, where, () -> {
                            fs.rename("/" + a, "/" + b);
                            Vol v = volumes.remove(a);
                            volumes.put(b, v);
                        });
                        case 6 -> expect(sets.containsKey(set) ? FsException.Code.EEXIST : null, where, () -> {
                            fs.mkdir("/snapshots/" + set);
                            sets.put(set, new TreeMap<>(volumes));
                        });
                        case 7 -> {
                            List<String> some = new ArrayList<>();
                            for (String n : volumes.keySet()) {
                                if (rnd.nextBoolean()) {
                                    some.add(n);
                                }
                            }
                            expect(sets.containsKey(set) ? FsException.Code.EEXIST : null, where, () -> {
                                fs.snapshots().take(set, some);
                                TreeMap<String, Vol> taken = new TreeMap<>();
                                (some.isEmpty() ? volumes.keySet() : some).forEach(n -> taken.put(n, volumes.get(n)));
                                sets.put(set, taken);
                            });
                        }
                        case 8 -> expect(volumes.containsKey(a) ? null : FsException.Code.ENOENT, where, () -> {
                            fs.unlink("/" + a);
                            volumes.remove(a);
                        });
                        case 9 -> {
                            TreeMap<String, Vol> s = sets.get(set);
                            if (s != null && !s.isEmpty()) {
                                String victim = s.firstKey();
                                if (rnd.nextBoolean()) {
                                    fs.unlink("/snapshots/" + set + "/" + victim);
                                    s.remove(victim);
                                } else {
                                    fs.rename("/snapshots/" + set + "/" + victim, "/" + b); // restore by mv
                                    volumes.put(b, s.remove(victim));
                                }
                            } else if (s != null) {
                                fs.rmdir("/snapshots/" + set);
                                sets.remove(set);
                            }
                        }
                        case 10 -> {
                            String to = SETS[rnd.nextInt(SETS.length)];
                            TreeMap<String, Vol> s = sets.get(set);
                            boolean blocked = s == null || (!to.equals(set) && sets.containsKey(to)
                                    && !sets.get(to).isEmpty());
                            expect(s == null ? FsException.Code.ENOENT : blocked ? FsException.Code.ENOTEMPTY : null,
                                    where, () -> {
                                        fs.rename("/snapshots/" + set, "/snapshots/" + to);
                                        sets.remove(set);
                                        sets.put(to, s);
                                    });
                        }
                        case 11 -> {
                            fs.close();
                            fs = open();
                        }
                        default -> crashRightAfterFsync(where);
                    }
                } catch (AssertionError e) {
                    throw e;
                } catch (RuntimeException e) {
                    fail(where + " (kind " + kind + "): unexpected " + e, e);
                }
                check(where);
            }
        } finally {
            fs.close();
        }
        fs = open();
        check("seed " + seed + ", after a last reopen");
        fs.close();
    }

    /**
     * fsync, then what a crash right after it leaves: a copy of the pool's metadata, catalog and times log (the data
     * file stands in as a sparse file of its size; contents are checked elsewhere) opens with the same names, sizes
     * and times. Writes in place make fsyncs that change times alone, which go to the times log, not a commit.
     */
    private void crashRightAfterFsync(String where) throws Exception {
        fs.sync();
        Map<String, Long> mtimes = new TreeMap<>();
        for (String n : volumes.keySet()) {
            mtimes.put(n, fs.getattr("/" + n).mtimeNs());
        }
        Path copy = dir.resolve("crash");
        Files.createDirectories(copy);
        for (String f : new String[]{"metadata", "catalog.0.json", "catalog.1.json", "times.0.json", "times.1.json"}) {
            Files.deleteIfExists(copy.resolve(f));
            if (Files.exists(dir.resolve(f))) {
                Files.copy(dir.resolve(f), copy.resolve(f));
            }
        }
        try (java.io.RandomAccessFile data = new java.io.RandomAccessFile(copy.resolve("data").toFile(), "rw")) {
            data.setLength(Files.size(dir.resolve("data")));
        }
        ThinPool tp = ThinPool.open(copy.resolve("metadata"), copy.resolve("data"),
                PoolOptions.DEFAULT.withReadOnly(true));
        try (PoolFileSystem crashed = PoolFileSystem.open(tp, copy)) {
            List<String> top = new ArrayList<>(List.of(FsPath.SNAPSHOTS, FsPath.LOST_FOUND));
            top.addAll(volumes.keySet());
            assertEquals(top, crashed.list("/"), where + ", crash image");
            for (String n : volumes.keySet()) {
                PoolFileSystem.Attr a = crashed.getattr("/" + n);
                assertEquals(volumes.get(n).size(), a.size(), where + ", crash image: size of " + n);
                assertEquals(mtimes.get(n), a.mtimeNs(), where + ", crash image: mtime of " + n);
            }
        }
    }

    private interface Step {
        void run();
    }

    /** Runs the step; expects it to fail with {@code code} (and change nothing), or to succeed when null. */
    private static void expect(FsException.Code code, String where, Step step) {
        if (code == null) {
            step.run();
            return;
        }
        try {
            step.run();
            fail(where + ": expected " + code);
        } catch (FsException e) {
            assertEquals(code, e.code(), where + ": " + e.getMessage());
        }
    }

    private void write(String name, long tag) {
        Handle h = fs.open("/" + name, true);
        ByteBuffer b = ByteBuffer.allocateDirect(8);
        b.putLong(0, tag);
        fs.write(h, 0, b);
    }

    private long tag(String path, long size) {
        if (size < 8) {
            return 0;
        }
        Handle h = fs.open(path, false);
        ByteBuffer b = ByteBuffer.allocateDirect(8);
        fs.read(h, 0, b);
        return b.getLong(0);
    }

    private void check(String where) {
        List<String> top = new ArrayList<>(List.of(FsPath.SNAPSHOTS, FsPath.LOST_FOUND));
        top.addAll(volumes.keySet());
        assertEquals(top, fs.list("/"), where);
        assertEquals(new ArrayList<>(sets.keySet()), fs.list("/snapshots"), where);
        assertEquals(List.of(), fs.list("/lost+found"), where + ": nothing lost");
        for (Map.Entry<String, Vol> v : volumes.entrySet()) {
            assertEquals(v.getValue().size(), fs.getattr("/" + v.getKey()).size(), where + ": size of " + v.getKey());
            assertEquals(v.getValue().tag(), tag("/" + v.getKey(), v.getValue().size()),
                    where + ": content of " + v.getKey());
        }
        for (Map.Entry<String, TreeMap<String, Vol>> s : sets.entrySet()) {
            assertEquals(new ArrayList<>(s.getValue().keySet()), fs.list("/snapshots/" + s.getKey()), where);
            for (Map.Entry<String, Vol> v : s.getValue().entrySet()) {
                String path = "/snapshots/" + s.getKey() + "/" + v.getKey();
                assertEquals(v.getValue().tag(), tag(path, v.getValue().size()), where + ": content of " + path);
            }
        }
    }
}
