package org.thinfs.core.thin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.io.FileBlockDevice;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Engine writes → thin_dump → thin_restore → engine reads the same devices, details and mappings. */
class RoundTripTest {
    @TempDir
    Path dir;

    @Test
    void engineDumpRestoreEngine() throws Exception {
        Path meta = dir.resolve("a.meta");
        new RandomAccessFile(meta.toFile(), "rw").setLength(8L << 20);
        Random rnd = new Random(99);
        try (ThinMetadata md = ThinMetadata.format(FileBlockDevice.open(meta, true), 128, 20000, 1024)) {
            md.createThin(1);
            for (int i = 0; i < 3000; i++) {
                md.insert(1, rnd.nextInt(5000), md.dataSpace().allocate());
            }
            md.setTransactionId(0, 5);
            md.createSnapshot(2, 1);
            md.createThin(7);
            for (int i = 0; i < 500; i++) {
                md.insert(2, rnd.nextInt(6000), md.dataSpace().allocate());
                md.insert(7, rnd.nextLong(1L << 30), md.dataSpace().allocate());
                md.remove(1, rnd.nextInt(5000));
            }
            md.createSnapshot(3, 2);
            md.commit();
        }
        String dump = run("thin_dump", meta.toString());
        Path xml = dir.resolve("a.xml");
        Files.writeString(xml, dump);
        Path restored = dir.resolve("b.meta");
        new RandomAccessFile(restored.toFile(), "rw").setLength(8L << 20);
        run("thin_restore", "-i", xml.toString(), "-o", restored.toString());
        assertEquals(dump, run("thin_dump", restored.toString()));
        assertEquals(content(meta), content(restored));
    }

    /** Every device's details and mappings as text, read through the engine. */
    static String content(Path meta) throws Exception {
        try (ThinMetadata md = ThinMetadata.open(FileBlockDevice.open(meta, false), false, 1024)) {
            return content(md);
        }
    }

    /** Every device's details and mappings as text, plus the pool's time and transaction id. */
    static String content(ThinMetadata md) {
        StringBuilder sb = new StringBuilder();
        sb.append("time ").append(md.time()).append(" trans ").append(md.transactionId()).append('\n');
        for (long id : md.deviceIds()) {
            sb.append(id).append(' ').append(md.details(id)).append('\n');
            md.lookupRange(id, 0, Long.MAX_VALUE, (v, b, t) -> sb.append(v).append(':').append(b).append('@')
                    .append(t).append(' '));
            sb.append('\n');
        }
        return sb.toString();
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " timed out");
        }
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed");
        return out;
    }
}
