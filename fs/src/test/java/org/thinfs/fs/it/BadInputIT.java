package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Damaged pools, hostile arguments and other users: clear refusals, nothing written, nothing exposed. */
class BadInputIT {
    @TempDir
    Path tmp;

    @Test
    void damagedMetadataIsRefusedAndPointsAtCheck() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            p.sh("truncate -s 1M v && echo data > v").ok();
            p.unmount();
            byte[] before = Files.readAllBytes(p.pool.resolve("metadata"));
            try (RandomAccessFile f = new RandomAccessFile(p.pool.resolve("metadata").toFile(), "rw")) {
                f.seek(100);
                f.write(0x5a);
            }
            Sh.Result r = p.thinfs("mount", p.pool.toString(), p.mnt.toString());
            assertNotEquals(0, r.code());
            assertTrue(r.out().contains("thinfs check"), r.out());
            assertFalse(p.mounted());
            Sh.Result check = p.thinfs("check", p.pool.toString());
            assertEquals(1, check.code(), check.out());
            assertTrue(check.out().contains("superblock"), check.out());
            byte[] after = Files.readAllBytes(p.pool.resolve("metadata"));
            after[100] = before[100];
            assertTrue(java.util.Arrays.equals(before, after), "a refused pool is never written to");
        }
    }

    @Test
    void damagedCatalogIsRefusedWithItsName() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            p.sh("truncate -s 1M v").ok();
            p.unmount();
            Path slot;
            try (var files = Files.list(p.pool)) {
                slot = files.filter(f -> f.getFileName().toString().matches("catalog\\.[01]\\.json"))
                        .max(java.util.Comparator.comparingLong(f -> f.toFile().lastModified())).orElseThrow();
            }
            Files.writeString(slot, "{ not json");
            Sh.Result r = p.thinfs("mount", p.pool.toString(), p.mnt.toString());
            assertNotEquals(0, r.code());
            assertTrue(r.out().contains(slot.getFileName().toString()) && r.out().contains("damaged"), r.out());
        }
    }

    @Test
    void hostileArgumentsGetOneSentence() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            for (String[] args : new String[][]{
                    {"create", tmp.resolve("x").toString(), "--size", "banana"},
                    {"create", tmp.resolve("y").toString(), "--size", "1G", "--block-size", "3k"},
                    {"mount", tmp.resolve("nope").toString(), p.mnt.toString()},
                    {"status", "/etc"},
                    {"check", "/nonexistent/pool"},
                    {"resize", p.pool.toString(), "--data", "1M"},
                    {"export-diff", p.pool.toString(), "-", "../../etc/passwd", tmp.resolve("o").toString()}}) {
                Sh.Result r = p.thinfs(args);
                assertNotEquals(0, r.code(), String.join(" ", args));
                assertFalse(r.out().contains("Exception") || r.out().contains("\tat "), r.out());
                assertTrue(r.out().trim().lines().count() <= 3, r.out());
            }
        }
    }

    @Test
    void symlinksOutOfThePoolAreNotFollowed() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            p.unmount();
            Path outside = tmp.resolve("outside.json");
            Files.writeString(outside, "{}");
            for (String name : new String[]{"catalog.1.json", "times.0.json"}) {   // a catalog slot, a times log slot
                Path slot = p.pool.resolve(name);
                Path saved = p.pool.resolve(name + ".saved");
                if (Files.exists(slot)) {
                    Files.move(slot, saved);
                }
                Files.createSymbolicLink(slot, outside);
                Sh.Result r = p.thinfs("mount", p.pool.toString(), p.mnt.toString());
                assertNotEquals(0, r.code(), name);
                assertTrue(r.out().contains("symbolic link"), name + ": " + r.out());
                assertEquals("{}", Files.readString(outside), name + ": the link target was not touched");
                Files.delete(slot);
                if (Files.exists(saved)) {
                    Files.move(saved, slot);
                }
            }
        }
    }

    @Test
    void otherUsersAreDeniedByDefault() throws Exception {
        try (MountedPool p = new MountedPool(tmp, "64M")) {
            p.sh("truncate -s 1M secret").ok();
            Sh.Result r = Sh.bash(tmp, "su -s /bin/sh nobody -c 'ls " + p.mnt + "'");
            assertNotEquals(0, r.code(), r.out());
            assertTrue(r.out().contains("Permission denied"), r.out());
        }
    }
}
