package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bookmarks through the command line, as a replication script uses them: a full stream of a snapshot goes to a
 * receiver pool, the snapshot is bookmarked and removed, the volume changes (writes, a punched hole, a copy that
 * shares blocks), and the incremental from the bookmark brings the receiver to the volume byte for byte, in the thinfs
 * format and in rbd's (which the real rbd merge-diff accepts after the full rbd stream). A bookmark of a volume
 * rolled back or replaced since is refused with a sentence; bookmarks survive remounts and can be deleted.
 */
class BookmarkIT {
    @TempDir
    Path tmp;

    @Test
    void anIncrementalFromABookmarkNeedsNoSnapshot() throws Exception {
        MountedPool recv = MountedPool.created(tmp.resolve("r"), "1G");
        try (MountedPool p = new MountedPool(tmp.resolve("s"), "1G")) {
            String pool = p.pool.toString();
            p.sh("truncate -s 64M vm other && dd if=/dev/urandom of=vm bs=1M count=8 conv=notrunc status=none && "
                    + "dd if=/dev/urandom of=other bs=1M count=4 conv=notrunc status=none").ok();
            p.thinfs("snapshot", pool, "s1").ok();
            p.thinfs("bookmark", pool, "s1").ok();
            p.thinfs("bookmark", pool, "s1", "nightly").ok();
            p.thinfs("export-diff", pool, "-", "snapshots/s1/vm", tmp + "/full.diff").ok();
            p.thinfs("export-diff", pool, "-", "snapshots/s1/vm", tmp + "/full.rbd", "--format", "rbd").ok();
            p.sh("dd if=/dev/urandom of=vm bs=1M seek=20 count=4 conv=notrunc status=none && "
                    + "fallocate -p -o 2M -l 2M vm && dd if=other of=vm bs=1M seek=40 count=4 conv=notrunc "
                    + "status=none && rm -r snapshots/s1").ok();
            p.unmount();
            p.thinfs("export-diff", pool, "#s1/vm", "vm", tmp + "/inc.diff").ok();
            p.thinfs("export-diff", pool, "#nightly/vm", "vm", tmp + "/inc.rbd", "--format", "rbd").ok();
            recv.thinfs("import-diff", recv.pool.toString(), "vm", tmp + "/full.diff").ok();
            recv.thinfs("import-diff", recv.pool.toString(), "vm", tmp + "/inc.diff").ok();
            recv.thinfs("import-diff", recv.pool.toString(), "vm2", tmp + "/full.rbd").ok();
            recv.thinfs("import-diff", recv.pool.toString(), "vm2", tmp + "/inc.rbd").ok();
            Sh.run(tmp, List.of("rbd", "merge-diff", "--no-progress", "full.rbd", "inc.rbd", "merged.rbd")).ok();
            recv.thinfs("import-diff", recv.pool.toString(), "vm3", tmp + "/merged.rbd").ok();
            p.mount();
            recv.mount();
            for (String v : new String[]{"vm", "vm2", "vm3"}) {
                Sh.bash(tmp, "cmp " + p.mnt + "/vm " + recv.mnt + "/" + v).ok();
            }
            assertTrue(p.thinfs("bookmarks", pool, "--json").ok().out()
                    .startsWith("[{\"name\":\"nightly\",\"set\":\"s1\",\"created\":"), "bookmarks --json");

            // A rollback since the bookmark breaks the chain: refused, never used.
            p.thinfs("snapshot", pool, "s2").ok();
            p.sh("dd if=/dev/urandom of=vm bs=64k count=1 conv=notrunc status=none").ok();
            p.thinfs("rollback", pool, "s2").ok();
            Sh.Result refused = p.thinfs("export-diff", pool, "#s1/vm", "vm", tmp + "/bad.diff");
            assertNotEquals(0, refused.code());
            assertTrue(refused.out().contains("does not descend from bookmark s1") && !refused.out()
                    .contains("Exception"), refused.out());
            Sh.Result missing = p.thinfs("export-diff", pool, "#gone/vm", "vm", tmp + "/bad.diff");
            assertTrue(missing.code() != 0 && missing.out().contains("no bookmark gone"), missing.out());
            p.thinfs("bookmark", "--delete", pool, "s1").ok();
            assertTrue(p.thinfs("bookmarks", pool).ok().out().startsWith("#nightly "));
        } finally {
            recv.close();
        }
        assertEquals(0, ThinTools.check(tmp.resolve("s/pool/metadata")).exitCode(), "thin_check");
    }
}
