package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes that cannot work are refused up front in one sentence with the fix, and a create is all or nothing: a
 * refusal or a failure leaves no file, a crashed create's leftover is named with the command that removes it, and
 * a huge sparse volume shrinks at once (the discard follows what is mapped).
 */
class CreateRefusalsIT {
    @TempDir
    Path tmp;

    private Sh.Result thinfs(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", MountedPool.JAR.toString()));
        cmd.addAll(List.of(args));
        return Sh.run(tmp, cmd);
    }

    /** One line, no Java class name or stack trace, the given words, and nothing left in tmp. */
    private void refused(Sh.Result r, String... words) throws Exception {
        assertEquals(2, r.code(), r.out());
        String out = r.out().trim();
        assertEquals(1, out.lines().count(), "one sentence: " + out);
        assertFalse(out.matches("(?s).*(Exception|\\bat org\\.|java\\.).*"), "no Java internals: " + out);
        for (String w : words) {
            assertTrue(out.contains(w), "'" + w + "' in: " + out);
        }
    }

    private List<String> leftovers() throws Exception {
        try (var l = Files.list(tmp)) {
            return l.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void sizesThatCannotWorkAreRefusedAndLeaveNothing() throws Exception {
        refused(thinfs("create", "p", "--size", "256T"), "metadata", "--block-size 1M");
        refused(thinfs("create", "p", "--size", "16P"), "--block-size 64M");
        refused(thinfs("create", "p", "--size", "1G", "--metadata-size", "1k"), "too small", "at least");
        refused(thinfs("create", "p", "--size", "1G", "--metadata-size", "100T"), "more than dm-thin");
        assertEquals(List.of(), leftovers(), "a refused create leaves nothing");
        Files.writeString(tmp.resolve("afile"), "x");
        refused(thinfs("create", "afile", "--size", "1G"), "not a directory");
        assertEquals("x", Files.readString(tmp.resolve("afile")));
    }

    @Test
    void aFailedCreateLeavesNothingAndACrashedOneIsNamed() throws Exception {
        // Bigger than the host file system's largest file: fails while growing the data file, after formatting.
        Sh.Result r = thinfs("create", "p", "--size", "256T", "--block-size", "1M");
        if (r.code() != 0) {
            assertEquals(1, r.out().trim().lines().count(), r.out());
            assertEquals(List.of(), leftovers(), "a failed create leaves nothing: " + r.out());
        }
        Files.createDirectories(tmp.resolve("q/.thinfs-creating"));
        refused(thinfs("create", "q", "--size", "64M"), "rm -r", ".thinfs-creating");
        Files.createDirectories(tmp.resolve("mnt"));
        refused(thinfs("mount", "q", "mnt"), "rm -r", ".thinfs-creating");
        Files.delete(tmp.resolve("q/.thinfs-creating"));
        Files.writeString(tmp.resolve("q/notes"), "kept");
        thinfs("create", "q", "--size", "64M").ok();
        assertEquals(List.of("data", "metadata", "notes"), Files.list(tmp.resolve("q"))
                .map(p -> p.getFileName().toString()).sorted().toList(), "an existing folder's files stay");
    }

    /** ramfs cannot punch holes: the pool could never give space back, so create refuses, leaving nothing. */
    @Test
    void aFileSystemWithoutPunchHoleIsRefused() throws Exception {
        Path at = Files.createDirectories(tmp.resolve("ramfs"));
        Sh.run(tmp, List.of("mount", "-t", "ramfs", "none", at.toString())).ok();
        try {
            refused(thinfs("create", at.resolve("p").toString(), "--size", "32M"), "cannot punch holes", "ext4");
            try (var l = Files.list(at)) {
                assertEquals(List.of(), l.map(x -> x.getFileName().toString()).toList(), "nothing left behind");
            }
        } finally {
            Sh.run(tmp, List.of("umount", at.toString()));
        }
    }

    /** Was: "ru.serce.jnrfuse.FuseException: cannot mount on ... (libfuse's message is above)". */
    @Test
    void mountOnANonEmptyDirectoryOrAFileSaysWhyAndTheFix() throws Exception {
        thinfs("create", "p", "--size", "64M").ok();
        Files.createDirectories(tmp.resolve("full"));
        Files.writeString(tmp.resolve("full/keep"), "x");
        refused(thinfs("mount", "p", "full"), "not empty", "-o nonempty");
        Files.writeString(tmp.resolve("afile"), "x");
        refused(thinfs("mount", "p", "afile"), "not a directory");
        refused(thinfs("mount", "nopool", "full"), "not a thinfs pool", "thinfs create");
        assertFalse(Files.readString(Path.of("/proc/mounts")).contains(tmp.toString()), "nothing was mounted");
    }

    @Test
    void anEightExbibyteVolumeShrinksAtOnce() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            p.sh("truncate -s 9223372036854775807 big && echo end | dd of=big bs=1 seek=9223372036854775000 "
                    + "conv=notrunc status=none && echo start > big.tmp && dd if=big.tmp of=big conv=notrunc "
                    + "status=none").ok();
            p.sh("timeout 20 truncate -s 1M big && stat -c %s big && timeout 20 rm big").ok();
            assertFalse(Files.exists(p.mnt.resolve("big")));
            p.unmount();
            MountIT.assertCheckedAndNamed(p);
        }
    }
}
