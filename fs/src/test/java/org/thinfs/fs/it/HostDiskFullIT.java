package org.thinfs.fs.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The file system under the pool fills up (a small tmpfs): the writer gets an error, nothing committed is damaged,
 * and once the host has room again the pool remounts with every fsynced byte intact.
 */
class HostDiskFullIT {
    @TempDir
    Path tmp;

    private Path small;

    @AfterEach
    void unmountTmpfs() throws Exception {
        if (small != null) {
            Sh.run(tmp, List.of("umount", "-l", small.toString()));
        }
    }

    @Test
    void fullHostDiskFailsTheWriterAndLosesNothingCommitted() throws Exception {
        small = tmp.resolve("small");
        Files.createDirectories(small);
        Sh.run(tmp, List.of("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", small.toString())).ok();
        try (MountedPool p = new MountedPool(small, "256M", "--metadata-size", "4M")) {
            p.sh("truncate -s 128M v && head -c 4M /dev/urandom > /tmp/hd.$$ && "
                    + "dd if=/tmp/hd.$$ of=v conv=notrunc,fsync status=none && sha256sum < /tmp/hd.$$ > "
                    + tmp.resolve("sum") + " && rm /tmp/hd.$$").ok();
            Sh.Result r = p.sh("dd if=/dev/urandom of=v bs=1M seek=8 count=64 conv=notrunc,fsync status=none");
            assertNotEquals(0, r.code(), "the host file system is full");
            assertTrue(r.out().contains("No space left") || r.out().contains("Input/output error")
                    || r.out().contains("Read-only"), r.out());
            // Make room on the host, then remount the pool.
            p.close();
            Sh.run(tmp, List.of("mount", "-o", "remount,size=512m", small.toString())).ok();
            Files.deleteIfExists(p.pool.resolve("thinfs.pid"));
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
            p.mount();
            assertEquals(Files.readString(tmp.resolve("sum")).trim(),
                    p.sh("head -c 4M v | sha256sum").ok().out().trim());
            p.sh("dd if=/dev/urandom of=v bs=1M seek=8 count=32 conv=notrunc,fsync status=none").ok();
            p.unmount();
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
        }
    }
}
