package org.thinfs.fs.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.thinfs.core.testing.ThinTools;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Copies by the tools people use share blocks through one shared mount (default --copies share): cp (coreutils 9.1
 * reads and writes a file with holes itself), cp --sparse=always, dd, rsync --inplace and qemu-img convert of a
 * half-written 512 MiB volume grow df by less than 64 MiB, read back identical, and are independent of the source
 * afterwards; a writer on the source during a copy never leaves the copy with bytes other than those the copier
 * wrote; thin_check is clean at the end.
 */
class CopySharingIT {
    @TempDir
    static Path tmp;
    static MountedPool p;

    @BeforeAll
    static void mountAndWriteTheSource() throws Exception {
        p = MountedPool.created(tmp, "2G");
        p.mount();
        // 16 MiB of data in every other 32 MiB: half the volume written, half holes.
        p.sh("truncate -s 512M vm && for i in $(seq 0 2 15); do dd if=/dev/urandom of=vm bs=1M seek=$((i*32)) "
                + "count=16 conv=notrunc status=none; done").ok();
    }

    @AfterAll
    static void unmount() throws Exception {
        p.close();
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode(), "thin_check");
    }

    private static long usedKiB() throws Exception {
        return Long.parseLong(p.sh("sync && df -k --output=used . | tail -1").ok().out().trim());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cp vm copy", "cp --sparse=always vm copy", "dd if=vm of=copy bs=1M status=none",
            "rsync --inplace vm copy", "qemu-img convert -O raw vm copy"})
    void aCopyByAnOrdinaryToolSharesBlocks(String command) throws Exception {
        long before = usedKiB();
        p.sh(command).ok();
        long grew = usedKiB() - before;
        try {
            assertTrue(grew < 64 * 1024, command + ": df grew by " + grew / 1024 + " MiB for a copy of 256 MiB of data");
            p.sh("cmp vm copy").ok();
            String source = p.sh("md5sum < vm").ok().out();
            p.sh("dd if=/dev/urandom of=copy bs=64k count=4 seek=3 conv=notrunc status=none").ok();
            assertEquals(source, p.sh("md5sum < vm").ok().out(), command + ": writing the copy changed the source");
            String copy = p.sh("md5sum < copy").ok().out();
            p.sh("dd if=/dev/urandom of=vm bs=64k count=1 seek=700 conv=notrunc status=none").ok();
            assertEquals(copy, p.sh("md5sum < copy").ok().out(), command + ": writing the source changed the copy");
        } finally {
            p.sh("rm -f copy").ok();
        }
    }

    @Test
    void aWriterOnTheSourceNeverMakesTheCopyReadOtherBytes() throws Exception {
        // While random 64 KiB blocks land on the source's data, two copies run: whole 1 MiB writes (dd) and 8 KiB
        // writes (tee into a redirection) that fill blocks in steps. Each copy must read exactly what its copier wrote.
        String writer = "while [ ! -e " + tmp + "/stop ]; do dd if=/dev/urandom of=vm bs=64k count=1 "
                + "seek=$(( (RANDOM % 8) * 512 + RANDOM % 256 )) conv=notrunc status=none; done";
        p.sh("rm -f " + tmp + "/stop; (" + writer + ") & "
                + "dd if=vm bs=1M status=none | tee " + tmp + "/expected1 | dd of=copy1 bs=1M iflag=fullblock "
                + "status=none; cat vm | tee " + tmp + "/expected2 > copy2; touch " + tmp + "/stop; wait").ok();
        try {
            p.sh("cmp copy1 " + tmp + "/expected1 && cmp copy2 " + tmp + "/expected2").ok();
            long used = usedKiB();
            p.sh("rm -f copy1 copy2").ok();
            assertTrue(used - usedKiB() < 128 * 1024, "the two copies held " + (used - usedKiB()) / 1024
                    + " MiB of their own: they shared little under the writer");
        } finally {
            p.sh("rm -f copy1 copy2 " + tmp + "/expected1 " + tmp + "/expected2").ok();
        }
    }
}
