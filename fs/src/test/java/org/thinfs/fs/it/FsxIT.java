package org.thinfs.fs.it;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An fsx-style exerciser through the mount: on two volume files, seeded random pread, pwrite (a quarter of them
 * all zeros, which the mount's zeroes=unmap turns into skipped or unmapped blocks), mmap reads and writes (msync),
 * ftruncate up and down, fallocate punch-hole, zero-range and preallocation (with and without KEEP_SIZE), and
 * copy_file_range within a file and between the two, with snapshot sets taken underneath, each checked against a
 * byte model, with a full read-back of the files and of every snapshot every 200 operations and at the end, then
 * thin_check. The
 * calls are libc's own (jnr-ffi), as fsx makes them. Seed and operation index in every failure.
 *
 * <p>Operations: {@code -Dthinfs.fsx.ops=N} (default 3000), seed {@code -Dthinfs.fsx.seed=S}.
 */
class FsxIT {
    private static final int MAX = 4 << 20;
    private static final int PAGE = 4096;
    private static final int O_RDWR = 2;
    private static final int PROT_RW = 3;
    private static final int MAP_SHARED = 1;
    private static final int MS_SYNC = 4;
    private static final int PUNCH = 0x02 | 0x01;            // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    private static final int KEEP_SIZE = 0x01;
    private static final int ZERO_RANGE = 0x10;
    private static final int MAX_SNAPSHOTS = 6;

    /** The libc calls fsx makes. */
    public interface Libc {
        int open(String path, int flags, int mode);

        int close(int fd);

        long pread(int fd, Pointer buf, long n, long off);

        long pwrite(int fd, Pointer buf, long n, long off);

        int ftruncate(int fd, long len);

        int fallocate(int fd, int mode, long off, long len);

        long copy_file_range(int in, Pointer offIn, int out, Pointer offOut, long len, int flags);

        Pointer mmap(Pointer addr, long len, int prot, int flags, int fd, long off);

        int munmap(Pointer addr, long len);

        int msync(Pointer addr, long len, int flags);
    }

    @TempDir
    java.nio.file.Path tmp;

    @Test
    void randomOperationsAgreeWithAByteModel() throws Exception {
        long seed = Long.getLong("thinfs.fsx.seed", 1201);
        int ops = Integer.getInteger("thinfs.fsx.ops", 3000);
        Libc c = LibraryLoader.create(Libc.class).load("c");
        Runtime rt = Runtime.getRuntime(c);
        Random rnd = new Random(seed);
        java.util.List<byte[][]> snapModels = new java.util.ArrayList<>();
        try (MountedPool p = MountedPool.created(tmp, "256M")) {
            p.mount("--zeroes", "unmap");
            p.sh("truncate -s 1M f0 && truncate -s 1M f1").ok();
            int[] fd = {c.open(p.mnt.resolve("f0").toString(), O_RDWR, 0), c.open(p.mnt.resolve("f1").toString(),
                    O_RDWR, 0)};
            byte[][] model = {new byte[MAX], new byte[MAX]};
            int[] size = {1 << 20, 1 << 20};
            Pointer buf = Memory.allocateDirect(rt, MAX);
            Pointer offs = Memory.allocateDirect(rt, 16);
            for (int op = 0; op < ops; op++) {
                int f = rnd.nextInt(2);
                int kind = rnd.nextInt(100);
                String where = "seed " + seed + " op " + op;
                if (kind < 22) {                                           // pread
                    int off = rnd.nextInt(MAX);
                    int len = 1 + rnd.nextInt(256 << 10);
                    long n = c.pread(fd[f], buf, len, off);
                    long expect = Math.max(0, Math.min(len, size[f] - off));
                    assertEquals(expect, n, where + ": pread f" + f + " at " + off + " of " + len);
                    byte[] got = new byte[(int) n];
                    buf.get(0, got, 0, got.length);
                    assertArrayEquals(Arrays.copyOfRange(model[f], off, off + (int) n), got, where + ": pread f" + f
                            + " at " + off);
                } else if (kind < 45) {                                    // pwrite, a quarter zeros
                    int off = rnd.nextInt(MAX - 1);
                    int len = 1 + rnd.nextInt(Math.min(MAX - off, 256 << 10));
                    byte[] b = new byte[len];
                    if (rnd.nextInt(4) != 0) {
                        rnd.nextBytes(b);
                    }
                    buf.put(0, b, 0, len);
                    assertEquals(len, c.pwrite(fd[f], buf, len, off), where + ": pwrite");
                    System.arraycopy(b, 0, model[f], off, len);
                    size[f] = Math.max(size[f], off + len);
                } else if (kind < 53) {                                    // mmap read or write
                    if (size[f] < PAGE) {
                        continue;
                    }
                    int pages = size[f] / PAGE;
                    int first = rnd.nextInt(pages);
                    int count = 1 + rnd.nextInt(Math.min(16, pages - first));
                    long len = (long) count * PAGE;
                    Pointer m = c.mmap(null, len, PROT_RW, MAP_SHARED, fd[f], (long) first * PAGE);
                    assertTrue(m != null && m.address() != -1L, where + ": mmap");
                    if (rnd.nextBoolean()) {
                        byte[] got = new byte[(int) len];
                        m.get(0, got, 0, got.length);
                        assertArrayEquals(Arrays.copyOfRange(model[f], first * PAGE, first * PAGE + (int) len), got,
                                where + ": mmap read f" + f + " page " + first);
                    } else {
                        int at = rnd.nextInt((int) len - 8);
                        byte[] b = new byte[1 + rnd.nextInt((int) len - at)];
                        rnd.nextBytes(b);
                        m.put(at, b, 0, b.length);
                        assertEquals(0, c.msync(m, len, MS_SYNC), where + ": msync");
                        System.arraycopy(b, 0, model[f], first * PAGE + at, b.length);
                    }
                    c.munmap(m, len);
                } else if (kind < 60) {                                    // ftruncate
                    int ns = rnd.nextInt(MAX);
                    assertEquals(0, c.ftruncate(fd[f], ns), where + ": ftruncate");
                    if (ns < size[f]) {
                        Arrays.fill(model[f], ns, MAX, (byte) 0);
                    }
                    size[f] = ns;
                } else if (kind < 65) {                                    // zero-range, maybe growing
                    int off = rnd.nextInt(MAX - 1);
                    int len = 1 + rnd.nextInt(Math.min(MAX - off, 512 << 10));
                    boolean keep = rnd.nextBoolean();
                    assertEquals(0, c.fallocate(fd[f], ZERO_RANGE | (keep ? KEEP_SIZE : 0), off, len),
                            where + ": zero-range f" + f + " at " + off + " of " + len);
                    Arrays.fill(model[f], off, Math.max(off, Math.min(size[f], off + len)), (byte) 0);
                    if (!keep) {
                        size[f] = Math.max(size[f], off + len);
                    }
                } else if (kind < 70) {                                    // preallocate, maybe growing
                    int off = rnd.nextInt(MAX - 1);
                    int len = 1 + rnd.nextInt(Math.min(MAX - off, 512 << 10));
                    boolean keep = rnd.nextBoolean();
                    assertEquals(0, c.fallocate(fd[f], keep ? KEEP_SIZE : 0, off, len),
                            where + ": preallocate f" + f + " at " + off + " of " + len);
                    if (!keep) {
                        size[f] = Math.max(size[f], off + len);
                    }
                } else if (kind < 72) {                                    // a snapshot set underneath
                    if (snapModels.size() >= MAX_SNAPSHOTS) {
                        continue;
                    }
                    p.sh("mkdir snapshots/s" + snapModels.size()).ok();
                    snapModels.add(new byte[][]{Arrays.copyOf(model[0], size[0]), Arrays.copyOf(model[1], size[1])});
                } else if (kind < 78) {                                    // punch-hole
                    int off = rnd.nextInt(MAX);
                    int len = 1 + rnd.nextInt(512 << 10);
                    assertEquals(0, c.fallocate(fd[f], PUNCH, off, len), where + ": punch-hole");
                    int end = Math.min(size[f], off + len);
                    if (end > off) {
                        Arrays.fill(model[f], off, end, (byte) 0);
                    }
                } else {                                                   // copy_file_range
                    int g = rnd.nextInt(2);
                    boolean aligned = rnd.nextBoolean();
                    int so = aligned ? (64 << 10) * rnd.nextInt(60) : rnd.nextInt(MAX);
                    int dOff = aligned ? (64 << 10) * rnd.nextInt(60) : rnd.nextInt(MAX - 1);
                    int len = rnd.nextInt(Math.min(MAX - so, MAX - dOff) + 1);
                    if (f == g && so < dOff + len && dOff < so + len) {
                        continue;
                    }
                    offs.putLong(0, so);
                    offs.putLong(8, dOff);
                    long n = c.copy_file_range(fd[f], offs, fd[g], offs.slice(8), len, 0);
                    long expect = Math.max(0, Math.min(len, size[f] - so));
                    assertEquals(expect, n, where + ": copy_file_range f" + f + "@" + so + " -> f" + g + "@" + dOff
                            + " of " + len);
                    System.arraycopy(model[f].clone(), so, model[g], dOff, (int) n);
                    if (n > 0) {
                        size[g] = Math.max(size[g], dOff + (int) n);
                    }
                }
                if (op % 200 == 199 || op == ops - 1) {
                    for (int i = 0; i < 2; i++) {
                        long n = c.pread(fd[i], buf, MAX, 0);
                        assertEquals(size[i], n, where + ": size of f" + i);
                        byte[] got = new byte[(int) n];
                        buf.get(0, got, 0, got.length);
                        assertArrayEquals(Arrays.copyOf(model[i], size[i]), got, where + ": whole f" + i);
                    }
                    for (int s = 0; s < snapModels.size(); s++) {
                        for (int i = 0; i < 2; i++) {
                            byte[] got = java.nio.file.Files.readAllBytes(p.mnt.resolve("snapshots/s" + s + "/f" + i));
                            assertArrayEquals(snapModels.get(s)[i], got, where + ": snapshot s" + s + " of f" + i
                                    + " changed under writes, zero-ranges or preallocation of its origin");
                        }
                    }
                }
            }
            c.close(fd[0]);
            c.close(fd[1]);
            p.unmount();
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
        }
    }
}
