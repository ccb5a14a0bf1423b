package org.thinfs.fs.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.TestVectors;
import org.thinfs.core.testing.ThinTools;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pools thinfs did not make: the kernel's own metadata and data, mounted as a foreign pool (devices as dev-ID,
 * reading exactly what the kernel read), and adopted into a pool directory, where the unnamed devices sit in
 * lost+found until they are named or deleted.
 */
class ForeignPoolIT {
    @TempDir
    Path tmp;

    private Path[] kernelPool(Path into) throws Exception {
        Path kernel = TestVectors.testdata().resolve("kernel");
        Files.createDirectories(into);
        Path meta = into.resolve("metadata");
        Path data = into.resolve("data");
        Files.copy(kernel.resolve("kernel-ops.meta"), meta);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(kernel.resolve("kernel-ops.data.gz")))) {
            Files.copy(in, data);
        }
        return new Path[]{meta, data};
    }

    @Test
    void kernelPoolMountsWithDevicesAsDevIdAndReadsWhatTheKernelRead() throws Exception {
        Path[] files = kernelPool(tmp.resolve("k"));
        Path mnt = tmp.resolve("mnt");
        Files.createDirectories(mnt);
        String dumpBefore = ThinTools.dump(files[0], false).requireOk().stdout();
        Sh.Result r = Sh.run(tmp, List.of("java", "-jar", MountedPool.JAR.toString(), "mount", "--metadata",
                files[0].toString(), "--data", files[1].toString(), "--block-size", "65536", mnt.toString()));
        try {
            r.ok();
            assertEquals("dev-1\ndev-3\ndev-4\ndev-5\ndev-9", Sh.bash(mnt, "ls").ok().out().trim());
            for (String line : Files.readAllLines(TestVectors.testdata().resolve("kernel/kernel-ops.sha256"))) {
                String[] f = line.trim().split("\\s+");
                long bytes = Long.parseLong(f[1]) * 512;
                String sha = Sh.bash(mnt, "(head -c " + bytes + " dev-" + f[0] + "; head -c $(( " + bytes
                        + " - $(stat -c %s dev-" + f[0] + ") )) /dev/zero 2>/dev/null) | head -c " + bytes
                        + " | sha256sum | cut -d' ' -f1").ok().out().trim();
                assertEquals(f[2], sha, "device " + f[0] + " read through thinfs as the kernel read it");
            }
            Sh.Result mk = Sh.bash(mnt, "mkdir snapshots");
            assertTrue(mk.code() != 0, "a foreign pool's names cannot change");
        } finally {
            Sh.run(tmp, List.of("fusermount", "-u", mnt.toString()));
            Thread.sleep(500);
        }
        assertEquals(dumpBefore, ThinTools.dump(files[0], false).requireOk().stdout(), "reading changed nothing");
    }

    @Test
    void unnamedDevicesWaitInLostAndFound() throws Exception {
        kernelPool(tmp.resolve("pool"));
        try (MountedPool p = MountedPool.existing(tmp)) {
            assertEquals("dev-1\ndev-3\ndev-4\ndev-5\ndev-9", p.sh("ls lost+found").ok().out().trim());
            p.sh("mv lost+found/dev-1 vm1 && rm lost+found/dev-3 && head -c 1 vm1 >/dev/null").ok();
            p.unmount();
            JsonNode st = new ObjectMapper().readTree(p.thinfs("status", p.pool.toString(), "--json").ok().out());
            assertEquals(1, st.get("volumes").size(), st.toString());
            assertEquals(3, st.get("lostFound").size());
            assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
        }
    }

    @Test
    void theBlockSizeIsReadFromTheSuperblockOrTakenInSectors() throws Exception {
        Path[] files = kernelPool(tmp.resolve("k"));
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        for (String[] given : new String[][]{{}, {"--block-size", "128"}, {"--block-size", "65536"}}) {
            java.util.List<String> cmd = new java.util.ArrayList<>(List.of("java", "-jar", MountedPool.JAR.toString(),
                    "mount", "--metadata", files[0].toString(), "--data", files[1].toString()));
            cmd.addAll(List.of(given));
            cmd.add(mnt.toString());
            Sh.run(tmp, cmd).ok();
            try {
                assertEquals("dev-1\ndev-3\ndev-4\ndev-5\ndev-9", Sh.bash(mnt, "ls").ok().out().trim(),
                        "mounted with " + String.join(" ", given));
            } finally {
                Sh.run(tmp, List.of("fusermount", "-u", mnt.toString()));
                Thread.sleep(500);
            }
        }
        Sh.Result wrong = Sh.run(tmp, List.of("java", "-jar", MountedPool.JAR.toString(), "mount", "--metadata",
                files[0].toString(), "--data", files[1].toString(), "--block-size", "131072", mnt.toString()));
        assertEquals(2, wrong.code(), wrong.out());
        assertTrue(wrong.out().contains("does not match the superblock's 65536 bytes"), wrong.out());
    }
}
