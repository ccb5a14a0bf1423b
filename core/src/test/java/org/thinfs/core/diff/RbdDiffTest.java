package org.thinfs.core.diff;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * rbd diff v1 in both directions inside thinfs: full and incremental streams between snapshots reproduce the volume
 * byte for byte in another pool; records are coalesced, ascending and never empty; hostile streams (truncated at
 * every byte, reordered, past the size, unknown tags, oversized names) are refused by verify and change nothing.
 */
class RbdDiffTest {
    private static final int BLOCK = 64 * 1024;
    private static final long SIZE = 200L * BLOCK + 777;

    @TempDir
    Path dir;

    private ThinPool newPool(String name) throws Exception {
        return DiffRoundTripTest.newPool(dir, name);
    }

    @Test
    void fullAndIncrementalStreamsReproduceEveryStep() throws Exception {
        Random rnd = new Random(17);
        try (ThinPool src = newPool("src"); ThinPool dst = newPool("dst")) {
            ThinDevice vol = src.createThin(1);
            ThinDevice replica = dst.createThin(1);
            long previous = -1;
            for (int step = 0; step < 5; step++) {
                for (int i = 0; i < 30; i++) {
                    byte[] b = new byte[1 + rnd.nextInt(2 * BLOCK)];
                    rnd.nextBytes(b);
                    vol.write((long) (rnd.nextDouble() * (SIZE - b.length)), ByteBuffer.wrap(b));
                }
                vol.discard((long) rnd.nextInt(150) * BLOCK + rnd.nextInt(BLOCK), 7L * BLOCK);
                long snap = 10 + step;
                src.createSnapshot(snap, 1);
                Path stream = dir.resolve("s" + step + ".rbd");
                try (var out = Files.newOutputStream(stream)) {
                    RbdDiff.export(src, previous, snap, SIZE, previous < 0 ? null : "s" + (step - 1), "s" + step, out);
                }
                RbdDiff.Header h = RbdDiff.verify(stream);
                assertEquals(SIZE, h.size());
                assertEquals("s" + step, h.toSnap());
                assertEquals(previous < 0 ? null : "s" + (step - 1), h.fromSnap());
                assertRecordsCoalesced(Files.readAllBytes(stream), "step " + step);
                RbdDiff.apply(stream, replica);
                assertArrayEquals(sha(src.device(snap)), sha(replica), "step " + step + ": replica equals the snapshot");
                previous = snap;
            }
        }
    }

    @Test
    void hostileStreamsAreRefusedAndChangeNothing() throws Exception {
        try (ThinPool src = newPool("src"); ThinPool dst = newPool("dst")) {
            ThinDevice vol = src.createThin(1);
            vol.write(3L * BLOCK, ByteBuffer.wrap(new byte[]{1, 2, 3}));
            vol.write(50L * BLOCK, ByteBuffer.allocate(2 * BLOCK).put(0, (byte) 9));
            src.createSnapshot(2, 1);
            vol.discard(50L * BLOCK, BLOCK);
            ByteArrayOutputStream good = new ByteArrayOutputStream();
            RbdDiff.export(src, 2, 1, SIZE, "a", "b", good);
            byte[] g = good.toByteArray();
            ThinDevice target = dst.createThin(5);
            target.write(0, ByteBuffer.wrap(new byte[]{42}));
            byte[] before = sha(target);
            List<byte[]> hostile = new ArrayList<>();
            for (int cut = 0; cut < g.length; cut++) {
                hostile.add(Arrays.copyOf(g, cut));                              // truncated anywhere
            }
            hostile.add(concat(g, new byte[]{'e'}));                             // bytes after the end
            hostile.add(replaceFirstTag(g, 'z', 'q'));                           // unknown tag
            hostile.add(concat(RbdDiff.BANNER, le('s', SIZE), rec('w', 5 * BLOCK, 1), new byte[1],
                    rec('w', BLOCK, 1), new byte[1], new byte[]{'e'}));          // out of order
            hostile.add(concat(RbdDiff.BANNER, le('s', SIZE), rec('z', SIZE - 10, 11), new byte[]{'e'}));  // past size
            hostile.add(concat(RbdDiff.BANNER, le('s', SIZE), rec('z', 0, 0), new byte[]{'e'}));           // empty
            hostile.add(concat(RbdDiff.BANNER, le('s', SIZE), rec('z', -4096, 8192), new byte[]{'e'}));    // wraps
            hostile.add(concat(RbdDiff.BANNER, le('s', SIZE), rec('w', 0, 1L << 40), new byte[]{'e'}));    // huge
            hostile.add(concat(RbdDiff.BANNER, new byte[]{'f', -1, -1, -1, 127}, new byte[]{'e'}));         // name
            hostile.add(concat(RbdDiff.BANNER, rec('z', 0, 10), le('s', SIZE), new byte[]{'e'}));          // late 's'
            hostile.add(concat(RbdDiff.BANNER, new byte[]{'e'}));                 // no size
            hostile.add("rbd diff v2\n".getBytes());
            int i = 0;
            for (byte[] h : hostile) {
                Path f = dir.resolve("hostile" + i);
                Files.write(f, h);
                String where = "hostile stream " + i++ + " (" + h.length + " bytes)";
                assertThrows(ThinfsException.class, () -> RbdDiff.apply(f, target), where);
                assertArrayEquals(before, sha(target), where + " changed the volume");
            }
        }
    }

    /** Data records ascend, never overlap, are never empty, and no two adjacent ones of one kind touch. */
    private static void assertRecordsCoalesced(byte[] s, String where) {
        ByteBuffer b = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        b.position(RbdDiff.BANNER.length);
        long lastEnd = -1;
        int lastTag = 0;
        while (true) {
            int tag = b.get();
            if (tag == 'e') {
                assertEquals(s.length, b.position(), where);
                return;
            }
            if (tag == 'f' || tag == 't') {
                int n = b.getInt();
                b.position(b.position() + n);
                continue;
            }
            if (tag == 's') {
                b.getLong();
                continue;
            }
            long off = b.getLong();
            long len = b.getLong();
            assertTrue(len > 0 && off >= lastEnd, where + ": record at " + off);
            assertTrue(!(off == lastEnd && tag == lastTag), where + ": adjacent '" + (char) tag + "' records at " + off);
            lastEnd = off + len;
            lastTag = tag;
            if (tag == 'w') {
                b.position((int) (b.position() + len));
            }
        }
    }

    private static byte[] sha(ThinDevice d) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        for (long off = 0; off < SIZE; off += buf.capacity()) {
            buf.clear().limit((int) Math.min(buf.capacity(), SIZE - off));
            d.read(off, buf);
            buf.flip();
            md.update(buf);
        }
        return md.digest();
    }

    private static byte[] le(int tag, long v) {
        return ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).put((byte) tag).putLong(v).array();
    }

    private static byte[] rec(int tag, long off, long len) {
        return ByteBuffer.allocate(17).order(ByteOrder.LITTLE_ENDIAN).put((byte) tag).putLong(off).putLong(len)
                .array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    private static byte[] replaceFirstTag(byte[] s, int from, int to) {
        byte[] c = s.clone();
        ByteBuffer b = ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN);
        b.position(RbdDiff.BANNER.length);
        while (true) {
            int at = b.position();
            int tag = b.get();
            if (tag == from) {
                c[at] = (byte) to;
                return c;
            }
            if (tag == 'f' || tag == 't') {
                int n = b.getInt();
                b.position(b.position() + n);
            } else if (tag == 's') {
                b.getLong();
            } else {
                long len = b.getLong(b.position() + 8);
                b.position(b.position() + 16 + (tag == 'w' ? (int) len : 0));
            }
        }
    }
}
