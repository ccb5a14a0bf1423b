package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * thinfs and Ceph's rbd agree on "rbd diff v1", with the real `rbd merge-diff` (ceph-common, no cluster) as the
 * oracle: every stream thinfs writes merges with another, the merged stream rbd writes imports into thinfs with the
 * expected bytes, full and incremental imports with --snapshot reproduce every snapshot, and a truncated stream or
 * one incremental from a state the volume has left is refused in one sentence, changing nothing.
 */
class RbdDiffIT {
    @TempDir
    Path tmp;

    private static String sha(MountedPool p, String file) throws Exception {
        return p.sh("sha256sum < " + file).ok().out().trim();
    }

    @Test
    void rbdMergeDiffAcceptsWhatThinfsWritesAndThinfsImportsWhatRbdWrites() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        String s1;
        String s2;
        try (MountedPool p = new MountedPool(a, "256M")) {
            p.sh("truncate -s 40M vol && dd if=/dev/urandom of=vol bs=64k count=20 seek=7 conv=notrunc status=none"
                    + " && mkdir snapshots/s1 && dd if=/dev/urandom of=vol bs=4k count=5 seek=3000 conv=notrunc "
                    + "status=none && fallocate -p -o 720896 -l 196608 vol && truncate -s 48M vol"
                    + " && mkdir snapshots/s2").ok();
            s1 = sha(p, "snapshots/s1/vol");
            s2 = sha(p, "snapshots/s2/vol");
            p.unmount();
            Path pool = p.pool;
            p.thinfs("export-diff", pool.toString(), "-", "snapshots/s1/vol", tmp.resolve("full.rbd").toString(),
                    "--format", "rbd").ok();
            p.thinfs("export-diff", pool.toString(), "snapshots/s1/vol", "snapshots/s2/vol",
                    tmp.resolve("inc.rbd").toString(), "--format", "rbd").ok();
            p.thinfs("export-diff", pool.toString(), "snapshots/s2/vol", "snapshots/s2/vol",
                    tmp.resolve("empty.rbd").toString(), "--format", "rbd", "--to-snap", "s3").ok();
        }
        Sh.run(tmp, List.of("rbd", "merge-diff", "--no-progress", "full.rbd", "inc.rbd", "merged.rbd")).ok();
        Sh.run(tmp, List.of("rbd", "merge-diff", "--no-progress", "inc.rbd", "empty.rbd", "inc-empty.rbd")).ok();
        Sh.run(tmp, List.of("rbd", "merge-diff", "--no-progress", "merged.rbd", "empty.rbd", "all.rbd")).ok();

        try (MountedPool q = new MountedPool(b, "256M")) {
            q.unmount();
            String pool = q.pool.toString();
            q.thinfs("import-diff", pool, "vol", tmp.resolve("full.rbd").toString(), "--snapshot").ok();
            // Incremental, from stdin as `rbd export-diff ... - | thinfs import-diff POOL VOL -` would send it.
            Sh.bash(tmp, "java -jar " + MountedPool.JAR + " import-diff " + pool + " vol - --snapshot < inc.rbd").ok();
            q.thinfs("import-diff", pool, "merged", tmp.resolve("merged.rbd").toString()).ok();
            q.thinfs("import-diff", pool, "all", tmp.resolve("all.rbd").toString()).ok();
            // The volume has moved past s1: an incremental from s1 must not apply on top of it.
            Sh.Result again = q.thinfs("import-diff", pool, "vol", tmp.resolve("inc.rbd").toString());
            assertEquals(2, again.code(), again.out());
            assertTrue(again.out().contains("changed since snapshot s1") || again.out().contains("exists already"),
                    again.out());
            byte[] inc = Files.readAllBytes(tmp.resolve("inc.rbd"));
            Files.write(tmp.resolve("cut.rbd"), Arrays.copyOf(inc, inc.length - 1));
            Sh.Result cut = q.thinfs("import-diff", pool, "merged", tmp.resolve("cut.rbd").toString());
            assertNotEquals(0, cut.code());
            assertEquals(1, cut.out().trim().lines().count(), cut.out());
            assertTrue(cut.out().contains("truncated"), cut.out());
            q.mount();
            assertEquals(s1, sha(q, "snapshots/s1/vol"), "full import, snapshot s1");
            assertEquals(s2, sha(q, "snapshots/s2/vol"), "incremental import, snapshot s2");
            assertEquals(s2, sha(q, "vol"));
            assertEquals(s2, sha(q, "merged"), "what rbd merge-diff wrote, imported; unchanged by the cut stream");
            assertEquals(s2, sha(q, "all"));
            assertEquals(48L << 20, Files.size(q.mnt.resolve("merged")), "the 's' record sets the size");
            q.unmount();
            assertEquals(0, ThinTools.check(q.pool.resolve("metadata")).exitCode());
        }
    }
}
