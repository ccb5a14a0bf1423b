package org.thinfs.fs.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * import-diff makes every check before its first write, and a refusal changes no byte of the pool: an incremental
 * thinfs stream only on top of the image it starts from (its base identity), an incremental rbd stream only into a
 * volume that exists, and --snapshot into a set that another volume's import made joins it. One source pool with
 * three snapshots of one volume, made once; each case gets its own fresh target pool.
 */
class ImportChecksIT {
    @TempDir
    static Path src;

    @TempDir
    Path tmp;

    static Path full;
    static Path inc12;
    static Path inc23;
    static Path fullRbd;
    static String sha2;
    static String sha3;

    @BeforeAll
    static void source() throws Exception {
        try (MountedPool p = new MountedPool(src, "256M")) {
            p.sh("truncate -s 8M vm && dd if=/dev/urandom of=vm bs=64k count=20 conv=notrunc status=none"
                    + " && mkdir snapshots/s1"
                    + " && dd if=/dev/urandom of=vm bs=64k count=3 seek=50 conv=notrunc status=none"
                    + " && mkdir snapshots/s2"
                    + " && dd if=/dev/urandom of=vm bs=4k count=5 seek=7 conv=notrunc status=none"
                    + " && fallocate -p -o 0 -l 128k vm && mkdir snapshots/s3").ok();
            sha2 = p.sh("sha256sum < snapshots/s2/vm").ok().out().split(" ")[0];
            sha3 = p.sh("sha256sum < snapshots/s3/vm").ok().out().split(" ")[0];
            p.unmount();
            String pool = p.pool.toString();
            full = src.resolve("full.d");
            inc12 = src.resolve("inc12.d");
            inc23 = src.resolve("inc23.d");
            fullRbd = src.resolve("full.rbd");
            p.thinfs("export-diff", pool, "-", "snapshots/s1/vm", full.toString()).ok();
            p.thinfs("export-diff", pool, "snapshots/s1/vm", "snapshots/s2/vm", inc12.toString()).ok();
            p.thinfs("export-diff", pool, "snapshots/s2/vm", "snapshots/s3/vm", inc23.toString()).ok();
            p.thinfs("export-diff", pool, "-", "snapshots/s2/vm", fullRbd.toString(), "--format", "rbd").ok();
            Sh.Result live = p.thinfs("export-diff", pool, "vm", "snapshots/s3/vm", src.resolve("x.d").toString());
            assertEquals(2, live.code(), "a live volume has no identity to start from: " + live.out());
        }
    }

    private static String sha(Path... files) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (Path f : files) {
            if (Files.exists(f)) {
                md.update(f.getFileName().toString().getBytes());
                md.update(Files.readAllBytes(f));
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Everything a refused import could have touched: metadata, data and both catalog slots. */
    private static String poolState(MountedPool q) throws Exception {
        return sha(q.pool.resolve("metadata"), q.pool.resolve("data"), q.pool.resolve("catalog.0.json"),
                q.pool.resolve("catalog.1.json"));
    }

    private static void refused(MountedPool q, String expect, String... args) throws Exception {
        String before = poolState(q);
        Sh.Result r = q.thinfs(args);
        assertEquals(2, r.code(), String.join(" ", args) + ": " + r.out());
        assertTrue(r.out().contains("nothing was applied") && r.out().contains(expect), r.out());
        assertEquals(1, r.out().trim().lines().count(), "one sentence: " + r.out());
        assertEquals(before, poolState(q), "a refused import changed the pool: " + String.join(" ", args));
    }

    @Test
    void anIncrementalAppliesOnlyOnTopOfItsBase() throws Exception {
        try (MountedPool q = MountedPool.created(tmp, "256M")) {
            String pool = q.pool.toString();
            refused(q, "does not exist", "import-diff", pool, "vmX", inc12.toString());
            q.thinfs("import-diff", pool, "vm", full.toString()).ok();
            refused(q, "holds image", "import-diff", pool, "vm", inc23.toString());   // skips s2
            q.thinfs("import-diff", pool, "vm", inc12.toString()).ok();
            refused(q, "holds image", "import-diff", pool, "vm", inc12.toString());   // applied already

            // A clone made now is at s2 too; a write to the volume moves it off its base.
            q.mount();
            q.sh("ln vm vm-clone && mkdir snapshots/here && dd if=/dev/zero of=vm bs=1 count=1 seek=9 conv=notrunc "
                    + "status=none").ok();
            q.unmount();
            refused(q, "written since", "import-diff", pool, "vm", inc23.toString());
            q.thinfs("import-diff", pool, "vm-clone", inc23.toString()).ok();
            q.mount();
            assertEquals(sha3, q.sh("sha256sum < vm-clone").ok().out().split(" ")[0], "the clone reached s3");
            assertEquals(sha2, q.sh("sha256sum < snapshots/here/vm-clone").ok().out().split(" ")[0]);
            q.unmount();
            assertEquals(0, ThinTools.check(q.pool.resolve("metadata")).exitCode(), "thin_check");
        }
    }

    @Test
    void rbdImportsCheckTheVolumeAndJoinAnExistingSet() throws Exception {
        try (MountedPool q = MountedPool.created(tmp, "256M")) {
            String pool = q.pool.toString();
            q.thinfs("import-diff", pool, "vm1", fullRbd.toString(), "--snapshot").ok();
            // The same image to a second volume: the set s2 exists (vm1's) and gets vm2 beside it.
            q.thinfs("import-diff", pool, "vm2", fullRbd.toString(), "--snapshot").ok();
            refused(q, "already holds vm2", "import-diff", pool, "vm2", fullRbd.toString(), "--snapshot");
            Path incRbd = tmp.resolve("inc.rbd");
            q.thinfs("export-diff", pool, "snapshots/s2/vm1", "snapshots/s2/vm1", incRbd.toString(), "--format",
                    "rbd", "--to-snap", "s9").ok();
            refused(q, "does not exist", "import-diff", pool, "vm3", incRbd.toString());
            q.mount();
            assertEquals("vm1\nvm2", q.sh("ls snapshots/s2").ok().out().trim());
            assertEquals(sha2, q.sh("sha256sum < snapshots/s2/vm2").ok().out().split(" ")[0]);
            assertEquals(sha2, q.sh("sha256sum < vm1").ok().out().split(" ")[0]);
            q.unmount();
            assertEquals(0, ThinTools.check(q.pool.resolve("metadata")).exitCode(), "thin_check");
        }
    }

    /**
     * A volume stops being its received image with its first change, durably: an in-place write made durable by
     * fdatasync alone and a kill -9 right after must not leave a catalog that still names the image. And a full
     * stream imported over a volume that held other data replaces it whole, so what follows applies exactly.
     */
    @Test
    void aChangedVolumeIsNeverTakenForItsImageAndAFullStreamReplacesAVolume() throws Exception {
        try (MountedPool q = MountedPool.created(tmp, "256M")) {
            String pool = q.pool.toString();
            q.mount();
            q.sh("truncate -s 8M vm && dd if=/dev/urandom of=vm bs=64k count=128 conv=notrunc,fsync status=none")
                    .ok();
            q.unmount();
            q.thinfs("import-diff", pool, "vm", full.toString()).ok();   // over data the image does not have
            q.thinfs("import-diff", pool, "vm", inc12.toString()).ok();
            q.mount();
            assertEquals(sha2, q.sh("sha256sum < vm").ok().out().split(" ")[0], "full then incremental = s2");
            q.sh("dd if=/dev/urandom of=vm bs=4k count=1 seek=3 conv=notrunc,fdatasync status=none").ok();
            q.kill9();
            refused(q, "written since", "import-diff", pool, "vm", inc23.toString());
            assertEquals(0, ThinTools.check(q.pool.resolve("metadata")).exitCode(), "thin_check");
        }
    }
}
