package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A delete of a device with millions of mappings holds only what it must: while `rm` walks and frees its tree,
 * `stat` of the mount root, `ls`, and direct reads and writes of another volume keep answering, within a second. The device comes from thin_restore (one
 * range of 12 M mappings, made in seconds without writing data) and waits in lost+found, as a pool made elsewhere.
 */
class BigDeleteIT {
    private static final long MAPPINGS = 12_000_000;

    @TempDir
    Path tmp;

    @Test
    void statAndLsAnswerWhileAMultiMillionMappingDeleteRuns() throws Exception {
        Path pool = Files.createDirectories(tmp.resolve("pool"));
        Path xml = tmp.resolve("big.xml");
        Files.writeString(xml, "<superblock uuid=\"\" time=\"0\" transaction=\"1\" flags=\"0\" version=\"2\" "
                + "data_block_size=\"128\" nr_data_blocks=\"" + (MAPPINGS + 1024) + "\">\n"
                + "  <device dev_id=\"1\" mapped_blocks=\"" + MAPPINGS + "\" transaction=\"0\" creation_time=\"0\" "
                + "snap_time=\"0\">\n"
                + "    <range_mapping origin_begin=\"0\" data_begin=\"0\" length=\"" + MAPPINGS + "\" time=\"0\"/>\n"
                + "  </device>\n</superblock>\n");
        Sh.run(tmp, List.of("truncate", "-s", "512M", pool.resolve("metadata").toString())).ok();
        Sh.run(tmp, List.of("thin_restore", "-i", xml.toString(), "-o", pool.resolve("metadata").toString())).ok();
        Sh.run(tmp, List.of("truncate", "-s", Long.toString((MAPPINGS + 1024) * 65536), pool.resolve("data").toString())).ok();
        try (MountedPool p = MountedPool.existing(tmp)) {
            assertEquals("dev-1", p.sh("ls lost+found").ok().out().trim());
            p.sh("truncate -s 1M other && dd if=/dev/urandom of=other bs=64k count=4 conv=notrunc,fsync status=none")
                    .ok();
            Process rm = new ProcessBuilder("rm", p.mnt.resolve("lost+found/dev-1").toString()).start();
            List<Long> slowest = new ArrayList<>();
            long worst = 0;
            int probes = 0;
            while (rm.isAlive() || probes == 0) {
                long t0 = System.nanoTime();
                Path other = p.mnt.resolve("other");
                Process stat = new ProcessBuilder("bash", "-c", "stat -c %n " + p.mnt + " >/dev/null && ls "
                        + p.mnt + " >/dev/null && dd if=" + other + " of=/dev/null bs=64k count=1 skip=2 iflag=direct "
                        + "status=none && dd if=/dev/zero of=" + other + " bs=4k count=1 seek=9 oflag=direct "
                        + "conv=notrunc status=none").start();
                assertTrue(stat.waitFor(30, TimeUnit.SECONDS), "stat of the root hung during the delete");
                worst = Math.max(worst, System.nanoTime() - t0);
                probes++;
                Thread.sleep(50);
            }
            assertEquals(0, rm.waitFor(), "rm");
            slowest.add(worst / 1_000_000);
            assertTrue(worst < 1_000_000_000L, "stat, ls and I/O to another volume took " + worst / 1_000_000 + " ms during the "
                    + "delete (" + probes + " probes)");
            assertEquals("", p.sh("ls lost+found").ok().out().trim());
            p.unmount();
        }
        assertEquals(0, ThinTools.check(pool.resolve("metadata")).exitCode());
    }
}
