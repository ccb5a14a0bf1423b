package org.thinfs.core.thin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.ThinPool;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Replays the operations the real kernel ran (testdata/kernel/*.ops) on the engine and requires the very same
 * metadata, as thin_dump prints it, and the very same device contents (sha256 as the kernel read them). This pins
 * the engine to the kernel's semantics: times, transaction ids, mapped_blocks, copy-on-write decisions, partial-block
 * zeroing and copying, discard, delete, the metadata snapshot and the order in which data blocks are handed out.
 */
class KernelReplayTest {
    private static final int BLOCK = 65536;
    private static final Path KERNEL = org.thinfs.core.testing.TestVectors.testdata().resolve("kernel");

    @TempDir
    Path dir;

    @Test
    void originSnapshotsFromAnEmptyPool() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 64L << 20, 4L << 20),
                PoolOptions.DEFAULT)) {
            replay(pool, Files.readAllLines(KERNEL.resolve("origin-snaps.ops")));
        }
        assertEquals(Files.readString(KERNEL.resolve("origin-snaps.dump.xml")),
                RoundTripTest.run("thin_dump", meta.toString()));
    }

    @Test
    void kernelOpsFromARestoredPool() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        new RandomAccessFile(meta.toFile(), "rw").setLength(4L << 20);
        RoundTripTest.run("thin_restore", "-i", KERNEL.resolve("kernel-ops.start.xml").toString(), "-o",
                meta.toString());
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.setLength(1024L * BLOCK);
            for (int d = 0; d < 1024; d++) {
                f.seek((long) d * BLOCK);
                f.write(dataBlockBytes(d));
            }
        }
        try (ThinPool pool = ThinPool.open(meta, data, PoolOptions.DEFAULT)) {
            replay(pool, Files.readAllLines(KERNEL.resolve("kernel-ops.ops")));
            for (String line : Files.readAllLines(KERNEL.resolve("kernel-ops.sha256"))) {
                String[] f = line.trim().split("\\s+");
                long id = Long.parseLong(f[0]);
                long bytes = Long.parseLong(f[1]) * 512;
                assertEquals(f[2], sha256(pool, id, bytes), "device " + id + " as the kernel read it");
            }
        }
        assertEquals(Files.readString(KERNEL.resolve("kernel-ops.dump.xml")),
                RoundTripTest.run("thin_dump", meta.toString()));
        assertEquals(Files.readString(KERNEL.resolve("kernel-ops.metasnap.dump.xml")),
                RoundTripTest.run("thin_dump", "-m", meta.toString()));
        org.thinfs.core.pool.PoolRandomTest.thinCheck(meta, "after kernel replay");
    }

    /** The kernel-check op language: only the lines that change the pool matter here. */
    static void replay(ThinPool pool, List<String> ops) {
        for (String line : ops) {
            String[] w = line.trim().split("\\s+");
            switch (w[0]) {
                case "create_thin" -> pool.createThin(Long.parseLong(w[1]));
                case "snap" -> pool.createSnapshot(Long.parseLong(w[1]), Long.parseLong(w[2]));
                case "write" -> pool.device(Long.parseLong(w[1])).write(Long.parseLong(w[2]),
                        ByteBuffer.wrap(pattern(Long.parseLong(w[1]), Long.parseLong(w[2]),
                                Integer.parseInt(w[3]), w[4])));
                case "discard" -> pool.device(Long.parseLong(w[1])).discard(Long.parseLong(w[2]),
                        Long.parseLong(w[3]));
                case "delete" -> pool.delete(Long.parseLong(w[1]));
                case "msg" -> message(pool, w);
                default -> {
                    // activate, hash, hashall, status, remove: no effect on the pool's content
                }
            }
        }
    }

    private static void message(ThinPool pool, String[] w) {
        switch (w[1]) {
            case "set_transaction_id" -> pool.transaction().setId(Long.parseLong(w[2]), Long.parseLong(w[3]));
            case "reserve_metadata_snap" -> pool.transaction().reserveMetadataSnapshot();
            default -> throw new IllegalArgumentException("unknown message " + w[1]);
        }
    }

    static byte[] pattern(long dev, long off, int len, String pat) {
        byte[] out = new byte[len];
        if (pat.equals("stamp")) {
            for (int i = 0; i < len; i += 32) {
                byte[] unit = (String.format("%-31s", "thin " + dev + " byte " + (off + i)) + "\n")
                        .getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(unit, 0, out, i, 32);
            }
        } else {
            java.util.Arrays.fill(out, (byte) (pat.startsWith("0x") ? Integer.parseInt(pat.substring(2), 16)
                    : Integer.parseInt(pat)));
        }
        return out;
    }

    static byte[] dataBlockBytes(int d) {
        StringBuilder sb = new StringBuilder(BLOCK);
        for (int i = 0; i < BLOCK / 32; i++) {
            sb.append(String.format("%-31s", "data " + d + " line " + i)).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static String sha256(ThinPool pool, long id, long bytes) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        for (long off = 0; off < bytes; off += buf.capacity()) {
            buf.clear().limit((int) Math.min(buf.capacity(), bytes - off));
            pool.device(id).read(off, buf);
            buf.flip();
            md.update(buf);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
