package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * lseek SEEK_DATA / SEEK_HOLE through a real mount against a model of the mapped blocks, over seeded random writes,
 * punch-holes, truncates and snapshots, with the ENXIO cases; then what tools make of it: `cp --sparse=always` of a
 * 16 GiB volume holding 1 MiB copies only the data, and `qemu-img map` and `qemu-img convert -O qcow2` see exactly
 * the mapped ranges. The seed and round are in every failure message.
 */
class SeekIT {
    private static final long BLOCK = 64 * 1024;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;

    @TempDir
    Path tmp;

    private final List<String> snapNames = new ArrayList<>();
    private final List<String> ops = new ArrayList<>();

    /** A file's size and mapped blocks, as the model has them. */
    private record Model(long size, TreeSet<Long> mapped) {
        Model copy() {
            return new Model(size, new TreeSet<>(mapped));
        }

        /** What lseek(2) must answer: the offset, or -6 (ENXIO). */
        long seek(long offset, int whence) {
            if (offset >= size) {
                return -6;
            }
            long b = offset / BLOCK;
            if (whence == SEEK_DATA) {
                Long m = mapped.ceiling(b);
                return m == null || m * BLOCK >= size ? -6 : Math.max(offset, m * BLOCK);
            }
            while (mapped.contains(b)) {
                b++;
            }
            return Math.min(size, Math.max(offset, b * BLOCK));
        }
    }

    @Test
    void seekDataAndHoleMatchTheModel() throws Exception {
        long seed = Long.getLong("thinfs.seek.seed", 14);
        Random rnd = new Random(seed);
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            Path vol = p.mnt.resolve("vol");
            long size = 40 * BLOCK + 12345;
            p.sh("truncate -s " + size + " vol").ok();
            Model m = new Model(size, new TreeSet<>());
            List<Model> snaps = new ArrayList<>();
            for (int round = 0; round < 40; round++) {
                String where = "seed " + seed + " round " + round + " after " + ops;
                switch (rnd.nextInt(5)) {
                    case 0, 1 -> {                                   // a write of 1 byte to 3 blocks, not zeros
                        long off = (long) (rnd.nextDouble() * m.size);
                        int len = 1 + rnd.nextInt((int) (3 * BLOCK));
                        len = (int) Math.min(len, m.size - off);
                        if (len > 0) {
                            try (FileChannel ch = FileChannel.open(vol, StandardOpenOption.WRITE)) {
                                byte[] ones = new byte[len];      // not zeros: those would map nothing
                                java.util.Arrays.fill(ones, (byte) 1);
                                ch.write(ByteBuffer.wrap(ones), off);
                            }
                            for (long b = off / BLOCK; b <= (off + len - 1) / BLOCK; b++) {
                                m.mapped.add(b);
                            }
                            ops.add("write " + off + "+" + len);
                        }
                    }
                    case 2 -> {                                      // punch-hole: whole blocks only
                        long off = (long) (rnd.nextDouble() * m.size);
                        long len = 1 + (long) (rnd.nextDouble() * 6 * BLOCK);
                        p.sh("fallocate --punch-hole --offset " + off + " --length " + len + " vol").ok();
                        long end = Math.min(m.size, off + len);
                        for (long b = (off + BLOCK - 1) / BLOCK; (b + 1) * BLOCK <= end; b++) {
                            m.mapped.remove(b);
                        }
                        ops.add("punch " + off + "+" + len);
                    }
                    case 3 -> {                                      // truncate down or up
                        long ns = BLOCK + (long) (rnd.nextDouble() * 60 * BLOCK);
                        try (RandomAccessFile f = new RandomAccessFile(vol.toFile(), "rw")) {
                            f.setLength(ns);
                        }
                        if (ns < m.size) {
                            m.mapped.removeIf(b -> b >= (ns + BLOCK - 1) / BLOCK);
                        }
                        m = new Model(ns, m.mapped);
                        ops.add("truncate " + ns);
                    }
                    default -> {                                     // a snapshot keeps this state
                        p.sh("mkdir snapshots/s" + round).ok();
                        snaps.add(m.copy());
                        snapNames.add("s" + round);
                    }
                }
                check(vol, m, rnd, where);
                for (int i = 0; i < snaps.size(); i++) {
                    check(p.mnt.resolve("snapshots/" + snapNames.get(i) + "/vol"), snaps.get(i), rnd,
                            where + " snapshot " + snapNames.get(i));
                }
            }
        }
    }

    /** Every block boundary and random offsets inside blocks, both whences, against the model. */
    private void check(Path file, Model m, Random rnd, String where) throws Exception {
        List<long[]> asks = new ArrayList<>();
        for (long b = 0; b * BLOCK <= m.size + BLOCK; b++) {
            for (int w : new int[]{SEEK_DATA, SEEK_HOLE}) {
                asks.add(new long[]{w, b * BLOCK});
                asks.add(new long[]{w, b * BLOCK + 1 + rnd.nextInt((int) BLOCK - 1)});
            }
        }
        asks.add(new long[]{SEEK_DATA, m.size - 1});
        asks.add(new long[]{SEEK_HOLE, m.size - 1});
        asks.add(new long[]{SEEK_DATA, m.size});
        asks.add(new long[]{SEEK_HOLE, m.size});
        StringBuilder in = new StringBuilder();
        for (long[] a : asks) {
            in.append(a[0]).append(' ').append(a[1]).append('\n');
        }
        Path asksFile = tmp.resolve("asks");
        Files.writeString(asksFile, in);
        String out = Sh.run(tmp, List.of("python3", "-c", LSEEK, file.toString(), asksFile.toString())).ok().out();
        String[] got = out.trim().split("\n");
        assertEquals(asks.size(), got.length, where + ": " + out);
        for (int i = 0; i < asks.size(); i++) {
            long expect = m.seek(asks.get(i)[1], (int) asks.get(i)[0]);
            assertEquals(expect, Long.parseLong(got[i].trim()), where + ": lseek(" + file.getFileName() + ", "
                    + asks.get(i)[1] + ", " + (asks.get(i)[0] == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE")
                    + ") with size " + m.size + " and mapped blocks " + m.mapped);
        }
    }

    /** Answers "WHENCE OFFSET" lines with the offset lseek returns, or -errno. */
    private static final String LSEEK = String.join("\n",
            "import os, sys",
            "fd = os.open(sys.argv[1], os.O_RDONLY)",
            "for line in open(sys.argv[2]):",
            "    w, o = map(int, line.split())",
            "    try:",
            "        print(os.lseek(fd, o, w))",
            "    except OSError as e:",
            "        print(-e.errno)");

    @Test
    void toolsSeeOnlyTheMappedData() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "256M")) {
            p.sh("truncate -s 16G vol && dd if=/dev/urandom of=vol bs=64k count=8 seek=3 conv=notrunc status=none"
                    + " && dd if=/dev/urandom of=vol bs=64k count=8 seek=200000 conv=notrunc status=none").ok();
            // cp reads only what SEEK_DATA shows: with every zero crossing FUSE it would take minutes.
            long t0 = System.nanoTime();
            p.sh("timeout 60 cp --sparse=always vol " + tmp.resolve("copy")).ok();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            p.sh("qemu-img compare -f raw -F raw vol " + tmp.resolve("copy")).ok();   // skips holes, as cmp cannot
            String du = Sh.run(tmp, List.of("du", "-k", "copy")).ok().out().split("\\s+")[0];
            assertTrue(Long.parseLong(du) <= 1100, "the copy holds only the data: " + du + " KiB, took " + ms + " ms");
            String map = p.sh("qemu-img map -f raw --output=json vol").ok().out();
            assertTrue(map.contains("\"start\": 196608, \"length\": 524288, \"depth\": 0, \"present\": true, "
                    + "\"zero\": false, \"data\": true"), map);
            assertTrue(map.contains("\"start\": 13107200000, \"length\": 524288, \"depth\": 0, \"present\": true, "
                    + "\"zero\": false, \"data\": true"), map);
            assertEquals(5, map.lines().filter(l -> l.contains("\"start\"")).count(), "data, hole, data, hole: " + map);
            Path qcow = tmp.resolve("vol.qcow2");
            p.sh("qemu-img convert -f raw -O qcow2 vol " + qcow + " && qemu-img compare -f raw -F qcow2 vol " + qcow)
                    .ok();
            String qmap = Sh.run(tmp, List.of("qemu-img", "map", "--output=json", qcow.toString())).ok().out();
            long dataBytes = 0;
            for (String l : qmap.split("\n")) {
                if (l.contains("\"data\": true")) {
                    dataBytes += Long.parseLong(l.replaceAll(".*\"length\": (\\d+).*", "$1"));
                }
            }
            assertEquals(16 * BLOCK, dataBytes, "qcow2 holds exactly the mapped blocks: " + qmap);
        }
    }
}
