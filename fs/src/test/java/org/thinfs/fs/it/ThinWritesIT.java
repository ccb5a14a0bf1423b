package org.thinfs.fs.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes that stay thin, through one shared mount (default zeroes=skip) with an NBD socket beside it: zeros from
 * dd provision nothing, mkfs.ext4 on a loop device (which turns BLKZEROOUT into fallocate ZERO_RANGE) maps next to
 * nothing, blkdiscard -z unmaps, preallocation maps everything or, past the free space, nothing at all, and NBD's
 * WRITE_ZEROES keeps its blocks only when the client says NO_HOLE.
 */
class ThinWritesIT {
    @TempDir
    static Path tmp;
    static MountedPool p;
    static Path sock;

    @BeforeAll
    static void mount() throws Exception {
        p = MountedPool.created(tmp, "1G");
        sock = tmp.resolve("nbd.sock");
        p.mount("--nbd", "unix:" + sock);
    }

    @AfterAll
    static void unmount() throws Exception {
        p.close();
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check");
    }

    private static long mappedKiB(String volume) throws Exception {
        return Long.parseLong(p.sh("du -k " + volume + " | cut -f1").ok().out().trim());
    }

    /** What the daemon maps for a volume, from status (FUSE's attribute cache may be older after NBD writes). */
    private static long provisionedKiB(String volume) throws Exception {
        com.fasterxml.jackson.databind.JsonNode s = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
        for (com.fasterxml.jackson.databind.JsonNode v : s.get("volumes")) {
            if (v.get("name").asText().equals(volume)) {
                return v.get("provisionedBytes").asLong() / 1024;
            }
        }
        throw new AssertionError("no volume " + volume + " in " + s);
    }

    private static long usedKiB() throws Exception {
        return Long.parseLong(p.sh("df -k --output=used . | tail -1").ok().out().trim());
    }

    @Test
    void zerosFromDdProvisionNothing() throws Exception {
        p.sh("truncate -s 512M z && dd if=/dev/zero of=z bs=1M count=256 conv=notrunc,fsync status=none").ok();
        assertEquals(0, mappedKiB("z"), "256 MiB of zeros into a fresh volume");
        // Zeros over data are data: they are written (and read back as zeros).
        p.sh("dd if=/dev/urandom of=z bs=64k count=4 conv=notrunc status=none"
                + " && dd if=/dev/zero of=z bs=64k count=4 conv=notrunc,fsync status=none"
                + " && cmp -n 262144 z /dev/zero").ok();
        assertEquals(256, mappedKiB("z"));
        p.sh("rm z").ok();
    }

    @Test
    void mkfsAndBlkdiscardOnALoopDeviceAreMetadataOperations() throws Exception {
        p.sh("truncate -s 2G disk").ok();
        String loop = p.sh("losetup --find --show disk").ok().out().trim();
        try {
            p.sh("mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 " + loop).ok();
            long mapped = mappedKiB("disk");
            assertTrue(mapped * 100 < 2L * 1024 * 1024, "mkfs.ext4 mapped " + mapped + " KiB of 2 GiB (1% = 20 MiB)");
            p.sh("fsck.ext4 -n -f " + loop).ok();
            p.sh("blkdiscard -f -z " + loop).ok();
            assertEquals(0, mappedKiB("disk"), "blkdiscard -z unmaps every block");
            p.sh("cmp -n 8M " + loop + " /dev/zero").ok();
        } finally {
            p.sh("losetup -d " + loop);
        }
        p.sh("rm disk").ok();
    }

    @Test
    void preallocationMapsAllOrNothing() throws Exception {
        p.sh("fallocate -l 64M pre && fallocate -n -o 64M -l 8M pre").ok();
        assertEquals(64L << 20, Long.parseLong(p.sh("stat -c %s pre").ok().out().trim()), "KEEP_SIZE keeps it");
        assertEquals(72 * 1024, mappedKiB("pre"));
        p.sh("cmp -n 64M pre /dev/zero").ok();
        p.sh("fallocate -z -o 1M -l 2M pre").ok();
        assertEquals(70 * 1024, mappedKiB("pre"), "zero-range unmaps whole blocks");

        long used = usedKiB();
        String before = p.thinfs("status", p.pool.toString(), "--json").ok().out();
        Sh.Result full = p.sh("fallocate -l 2G big");
        assertTrue(full.code() != 0 && full.out().contains("No space left on device"), full.out());
        assertEquals(used, usedKiB(), "a refused preallocation allocated nothing");
        assertEquals(0, Long.parseLong(p.sh("stat -c %s big").ok().out().trim()));
        assertEquals(0, mappedKiB("big"));
        p.sh("rm big pre").ok();
        assertTrue(before.contains("\"dataBlocksUsed\""), before);
    }

    @Test
    void nbdWriteZeroesKeepsBlocksOnlyWithNoHole() throws Exception {
        p.sh("truncate -s 16M nz").ok();
        String uri = "nbd+unix:///nz?socket=" + sock;
        Sh.run(tmp, java.util.List.of("qemu-io", "-f", "raw", "-c", "write -P 7 0 4M", uri)).ok();
        Sh.run(tmp, java.util.List.of("qemu-io", "-f", "raw", "-c", "write -z -u 0 1M", uri)).ok();
        assertEquals(3 * 1024, provisionedKiB("nz"), "WRITE_ZEROES that may unmap unmaps");
        Sh.run(tmp, java.util.List.of("qemu-io", "-f", "raw", "-c", "write -z 8M 2M", uri)).ok();
        assertEquals(5 * 1024, provisionedKiB("nz"), "NO_HOLE: the zeros are allocated");
        p.sh("cmp -n 1M nz /dev/zero && cmp -i 8M -n 2M nz /dev/zero").ok();
        p.sh("rm nz").ok();
    }
}
