package org.thinfs.core.kernel;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.PoolRandomTest;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.core.testing.TestVectors;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real Linux kernel (Debian 6.1 under QEMU, tools/kernel-check/kernel-check.sh) as the oracle: a pool thinfs wrote
 * activates with dm-thin and reads the same bytes; then the kernel snapshots, writes, discards, deletes and creates
 * on it, and thinfs reads exactly what the kernel wrote and keeps working on it. About a minute under TCG.
 */
@Tag("kernel")
class KernelCheckTest {
    private static final int BLOCK = 64 * 1024;
    private static final long SECTORS = 16L * 1024 * 1024 / 512;   // 16 MiB per device

    @TempDir
    Path dir;

    @Test
    void thinfsPoolsActivateInTheKernelAndKernelChangesReadBackInThinfs() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        Random rnd = new Random(6);
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 64L << 20, 4L << 20),
                PoolOptions.DEFAULT)) {
            ThinDevice d1 = pool.createThin(1);
            for (int i = 0; i < 40; i++) {
                byte[] b = new byte[1 + rnd.nextInt(3 * BLOCK)];
                rnd.nextBytes(b);
                d1.write(rnd.nextInt((int) (SECTORS * 512) - b.length), ByteBuffer.wrap(b));
            }
            pool.createSnapshot(2, 1);
            d1.write(5000, ByteBuffer.wrap(new byte[70000]));           // copy-on-write, partial blocks
            pool.device(2).write(BLOCK * 3L + 17, ByteBuffer.wrap("snapshot diverges".getBytes(StandardCharsets.UTF_8)));
            ThinDevice d3 = pool.createThin(3);
            for (int v = 0; v < 256; v++) {                                // a two-level device tree
                ByteBuffer b = ByteBuffer.allocate(512);
                b.putInt(0, v);
                d3.write((long) v * BLOCK, b);
            }
            d1.discard(BLOCK * 10L, BLOCK * 4L);
            pool.createThin(4);
            pool.device(4).write(0, ByteBuffer.allocate(BLOCK));
            pool.delete(4);
            pool.transaction().setId(0, 1);
        }
        Map<Long, String> expect = hashes(meta, data, 1, 2, 3);
        Result first = kernelCheck(meta, data, List.of("--verify"), 1, 2, 3);
        for (long id = 1; id <= 3; id++) {
            assertEquals(expect.get(id), first.devices.get(id), "device " + id + " as the kernel reads it");
        }

        // The kernel now changes the pool thinfs wrote.
        Result second = kernelCheck(meta, data, List.of(
                "--op", "snap 5 1", "--op", "activate 5 " + SECTORS,
                "--op", "write 5 0 1048576 0xAB",
                "--op", "write 1 65536 4096 stamp",
                "--op", "discard 3 0 4194304",
                "--op", "delete 2",
                "--op", "create_thin 9", "--op", "activate 9 " + SECTORS,
                "--op", "write 9 0 200000 stamp",
                "--op", "msg set_transaction_id 1 2"), 1, 2, 3);
        assertTrue(second.out.contains("THIN_CHECK ok"), second.out);
        PoolRandomTest.thinCheck(meta, "after the kernel changed the pool");
        try (ThinPool pool = ThinPool.open(meta, data, PoolOptions.DEFAULT)) {
            assertEquals(java.util.Set.of(1L, 3L, 5L, 9L), pool.deviceIds());
            assertEquals(2, pool.transaction().id());
            byte[] five = read(pool, 5, 0, 1 << 20);
            for (byte b : five) {
                assertEquals((byte) 0xAB, b);
            }
            assertEquals(stamp(1, 65536, 4096), new String(read(pool, 1, 65536, 4096), StandardCharsets.US_ASCII));
            assertEquals(stamp(9, 0, 200000), new String(read(pool, 9, 0, 200000), StandardCharsets.US_ASCII));
            byte[] three = read(pool, 3, 0, 4 << 20);
            for (byte b : three) {
                assertEquals(0, b);
            }
            assertEquals(64, ByteBuffer.wrap(read(pool, 3, 64L * BLOCK, 4)).getInt(), "blocks past the discard stay");
            // thinfs keeps working on the kernel's metadata.
            pool.device(9).write(300000, ByteBuffer.wrap("thinfs again".getBytes(StandardCharsets.UTF_8)));
            pool.createSnapshot(10, 9);
            pool.device(3).write(0, ByteBuffer.wrap(new byte[]{1, 2, 3}));
            // Rollback in place: 9 writes on, then gets 10's mappings back under its own id.
            pool.device(9).write(0, ByteBuffer.wrap(new byte[3 * BLOCK]));
            pool.rollback(9, 10);
            // A copy as cp makes it (read, then write the same bytes): its blocks are the source's, shared.
            pool.setCopySharing(true);
            pool.setZeroWrites(org.thinfs.core.pool.ZeroWrites.SKIP);
            ThinDevice copy = pool.createThin(11);
            for (long off = 0; off < SECTORS * 512; off += 1 << 20) {
                copy.write(off, ByteBuffer.wrap(read(pool, 9, off, 1 << 20)));
            }
            assertEquals(pool.device(9).mappedDataBlock(1), copy.mappedDataBlock(1), "the copy shares its blocks");
        }
        Map<Long, String> after = hashes(meta, data, 1, 3, 5, 9, 10, 11);
        assertEquals(after.get(10L), after.get(9L), "a device rolled back to its snapshot");
        Result third = kernelCheck(meta, data, List.of("--verify"), 1, 3, 5, 9, 10, 11);
        for (long id : after.keySet()) {
            assertEquals(after.get(id), third.devices.get(id), "device " + id + " after thinfs wrote again");
        }
    }

    /**
     * External origins: a thin device over a read-only base image, written by thinfs (partial writes that copy the
     * rest of a block from the image, whole blocks, a discard that lets the image show again, a snapshot), reads in
     * dm-thin's 'thin POOL ID ORIGIN' exactly what thinfs reads; the kernel then writes partial blocks over the image
     * (its own copy-up), and thinfs reads exactly what the kernel reads.
     */
    @Test
    void externalOriginDevicesReadTheSameInTheKernelAndInThinfs() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Path image = dir.resolve("base.img");
        Files.createFile(data);
        Random rnd = new Random(31);
        byte[] bytes = new byte[(int) (SECTORS * 512)];
        rnd.nextBytes(bytes);
        java.util.Arrays.fill(bytes, 3 * BLOCK, 5 * BLOCK, (byte) 0);
        Files.write(image, bytes);
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 64L << 20, 4L << 20),
                PoolOptions.DEFAULT);
             org.thinfs.core.pool.BaseImage base = org.thinfs.core.pool.BaseImage.open(image)) {
            ThinDevice d1 = pool.createThin(1);
            pool.bases().attach(1, new org.thinfs.core.pool.DeviceBase(base, bytes.length, false));
            d1.write(100, ByteBuffer.wrap("copied up from the image".getBytes(StandardCharsets.UTF_8)));
            d1.write(7L * BLOCK, ByteBuffer.wrap(new byte[2 * BLOCK]));           // whole blocks of zeros
            d1.write(20L * BLOCK - 10, ByteBuffer.wrap(new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
            pool.createSnapshot(2, 1);
            d1.write(30L * BLOCK + 5, ByteBuffer.wrap(new byte[40000]));
            d1.write(40L * BLOCK, ByteBuffer.wrap(new byte[BLOCK]));
            d1.discard(40L * BLOCK, BLOCK);                                        // the image shows again
            pool.transaction().setId(0, 1);
        }
        Map<Long, String> expect = hashesOverImage(meta, data, image, 1, 2);
        Run r = kernelCheckOnce(meta, data, List.of("1:" + SECTORS + ":origin", "2:" + SECTORS + ":origin",
                "--origin", image.toString(),
                "--op", "write 1 200000 3008 stamp", "--op", "write 1 1048576 100 0x11", "--op", "hash 1",
                "--op", "msg set_transaction_id 1 2"));
        assertEquals(0, r.exit(), "kernel-check failed:\n" + r.out());
        List<String[]> devs = r.out().lines().map(l -> l.trim().split("\\s+"))
                .filter(f -> f.length == 3 && f[0].equals("DEV")).toList();
        assertEquals(3, devs.size(), r.out());
        assertEquals(expect.get(1L), devs.get(0)[2], "device 1 over the image, as the kernel reads it");
        assertEquals(expect.get(2L), devs.get(1)[2], "its snapshot, as the kernel reads it");
        assertTrue(r.out().contains("THIN_CHECK ok"), r.out());
        Map<Long, String> after = hashesOverImage(meta, data, image, 1);
        assertEquals(devs.get(2)[2], after.get(1L), "device 1 after the kernel's copy-ups, as thinfs reads it");
        assertEquals(stamp(1, 200000, 3008), new String(readOverImage(meta, data, image, 1, 200000, 3008),
                StandardCharsets.US_ASCII));
    }

    private static Map<Long, String> hashesOverImage(Path meta, Path data, Path image, long... ids)
            throws Exception {
        Map<Long, String> out = new HashMap<>();
        for (long id : ids) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (long off = 0; off < SECTORS * 512; off += 1 << 20) {
                md.update(readOverImage(meta, data, image, id, off, 1 << 20));
            }
            out.put(id, HexFormat.of().formatHex(md.digest()));
        }
        return out;
    }

    private static byte[] readOverImage(Path meta, Path data, Path image, long id, long off, int len)
            throws Exception {
        try (ThinPool pool = ThinPool.open(meta, data, PoolOptions.DEFAULT.withReadOnly(true));
             org.thinfs.core.pool.BaseImage base = org.thinfs.core.pool.BaseImage.open(image)) {
            pool.bases().attach(id, new org.thinfs.core.pool.DeviceBase(base, base.size(), false));
            return read(pool, id, off, len);
        }
    }

    /** A pool whose superblock checksum is wrong must make the harness fail loudly, not pass or hang. */
    @Test
    void aBrokenChecksumFailsLoudly() throws Exception {
        Path meta = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.createFile(data);
        try (ThinPool pool = ThinPool.create(meta, data, new PoolConfig(BLOCK, 64L << 20, 4L << 20),
                PoolOptions.DEFAULT)) {
            pool.createThin(1).write(0, ByteBuffer.wrap(new byte[BLOCK]));
        }
        try (var ch = java.nio.channels.FileChannel.open(meta, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, 0);
            b.put(0, (byte) (b.get(0) ^ 0x5a)).rewind();
            ch.write(b, 0);                                            // the superblock's checksum field
        }
        Run r = kernelCheckOnce(meta, data, List.of(), 1);
        assertTrue(r.exit() != 0, "kernel-check passed a pool with a broken checksum:\n" + r.out());
        assertTrue(r.out().contains("RESULT fail") && r.out().contains("ERROR"), r.out());
    }

    private static byte[] read(ThinPool pool, long id, long off, int len) {
        ByteBuffer b = ByteBuffer.allocate(len);
        pool.device(id).read(off, b);
        return b.array();
    }

    /** The kernel-check 'stamp' pattern: every 32 bytes at offset o hold "thin N byte o", padded, newline. */
    static String stamp(long dev, long off, int len) {
        StringBuilder sb = new StringBuilder();
        for (long o = off; o < off + len; o += 32) {
            sb.append(String.format("%-31s", "thin " + dev + " byte " + o)).append('\n');
        }
        return sb.toString();
    }

    private static Map<Long, String> hashes(Path meta, Path data, long... ids) throws Exception {
        Map<Long, String> out = new HashMap<>();
        try (ThinPool pool = ThinPool.open(meta, data, PoolOptions.DEFAULT.withReadOnly(true))) {
            for (long id : ids) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                ByteBuffer buf = ByteBuffer.allocate(1 << 20);
                for (long off = 0; off < SECTORS * 512; off += buf.capacity()) {
                    buf.clear();
                    pool.device(id).read(off, buf);
                    buf.flip();
                    md.update(buf);
                }
                out.put(id, HexFormat.of().formatHex(md.digest()));
            }
        }
        return out;
    }

    record Result(String out, Map<Long, String> devices) {
    }

    /**
     * Runs kernel-check. A guest that stops making progress (seen once in a full suite run: the guest idle under TCG
     * until killed, the same run passing at once on its own) is given one more go on the files as they were: the
     * operations write to META and DATA, so both are restored from copies first. A wrong hash or a failed check is
     * never retried.
     */
    private static Result kernelCheck(Path meta, Path data, List<String> options, long... ids) throws Exception {
        Path metaCopy = meta.resolveSibling(meta.getFileName() + ".before");
        Path dataCopy = data.resolveSibling(data.getFileName() + ".before");
        Files.copy(meta, metaCopy, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(data, dataCopy, StandardCopyOption.REPLACE_EXISTING);
        Run r = kernelCheckOnce(meta, data, options, ids);
        if (r.out().contains("the guest did not finish")) {
            System.err.println("kernel-check: the guest stalled; trying once more:\n" + r.out());
            Files.copy(metaCopy, meta, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(dataCopy, data, StandardCopyOption.REPLACE_EXISTING);
            r = kernelCheckOnce(meta, data, options, ids);
        }
        assertEquals(0, r.exit(), "kernel-check failed:\n" + r.out());
        assertTrue(r.out().contains("RESULT ok"), r.out());
        Map<Long, String> devs = new HashMap<>();
        for (String line : r.out().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[0].equals("DEV") && !devs.containsKey(Long.parseLong(f[1]))) {
                devs.put(Long.parseLong(f[1]), f[2]);
            }
        }
        return new Result(r.out(), devs);
    }

    private record Run(int exit, String out) {
    }

    private static Run kernelCheckOnce(Path meta, Path data, List<String> options, long... ids) throws Exception {
        Path script = TestVectors.kernelCheckScript();
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), meta.toString(), data.toString(),
                "128"));
        for (long id : ids) {
            cmd.add(id + ":" + SECTORS);
        }
        cmd.addAll(options);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // The whole check takes about a minute; a guest still running after five has stalled.
        pb.environment().putIfAbsent("KERNEL_CHECK_TIMEOUT", "300");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.MINUTES), "kernel-check timed out");
        return new Run(p.exitValue(), out);
    }
}
