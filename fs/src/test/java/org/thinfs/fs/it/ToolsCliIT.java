package org.thinfs.fs.it;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.TestVectors;
import org.thinfs.core.testing.ThinTools;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The thinfs command agrees with thin-provisioning-tools on every vector: check verdict, dump, restore. */
class ToolsCliIT {
    @TempDir
    Path tmp;

    static List<Path> vectors() {
        return TestVectors.metadataFiles();
    }

    private Sh.Result thinfs(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", MountedPool.JAR.toString()));
        cmd.addAll(List.of(args));
        return Sh.run(tmp, cmd);
    }

    @ParameterizedTest
    @MethodSource("vectors")
    void checkDumpAndRestoreAgreeWithThinTools(Path meta) throws Exception {
        assertEquals(ThinTools.check(meta).exitCode() == 0, thinfs("check", "-q", meta.toString()).code() == 0,
                "verdict on " + meta);
        Path xml = tmp.resolve("ours.xml");
        thinfs("dump", meta.toString(), "-o", xml.toString()).ok();
        assertEquals(ThinTools.dump(meta, false).requireOk().stdout(), Files.readString(xml), "dump of " + meta);
        Path restored = tmp.resolve("restored.meta");
        try (RandomAccessFile f = new RandomAccessFile(restored.toFile(), "rw")) {
            f.setLength(4L << 20);
        }
        thinfs("restore", "-i", xml.toString(), "-o", restored.toString()).ok();
        assertEquals(0, ThinTools.check(restored).exitCode());
        assertEquals(ThinTools.dump(meta, false).requireOk().stdout(),
                ThinTools.dump(restored, false).requireOk().stdout(), "round trip of " + meta);
    }
}
