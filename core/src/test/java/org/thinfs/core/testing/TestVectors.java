package org.thinfs.core.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Locates {@code ../shared/testdata} (or {@code $THINFS_SHARED/testdata}) and lists its vectors. */
public final class TestVectors {
    private TestVectors() {
    }

    public static Path shared() {
        String env = System.getenv("THINFS_SHARED");
        if (env != null) {
            return Path.of(env);
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path s = p.resolveSibling("shared");
            if (Files.isDirectory(s.resolve("testdata"))) {
                return s;
            }
            p = p.getParent();
        }
        throw new IllegalStateException("cannot find ../shared/testdata; set THINFS_SHARED");
    }

    public static Path testdata() {
        return shared().resolve("testdata");
    }

    /** Files of testdata/ and testdata/kernel/ whose name ends with {@code suffix}, sorted. */
    public static List<Path> withSuffix(String suffix) {
        Path td = testdata();
        try (Stream<Path> a = Files.list(td); Stream<Path> b = Files.list(td.resolve("kernel"))) {
            return Stream.concat(a, b).filter(p -> p.getFileName().toString().endsWith(suffix)).sorted()
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every {@code *.meta} metadata vector. */
    public static List<Path> metadataFiles() {
        return withSuffix(".meta");
    }

    /** {@code NAME.suffix} next to {@code NAME.meta}. */
    public static Path sibling(Path meta, String suffix) {
        String n = meta.getFileName().toString();
        return meta.resolveSibling(n.substring(0, n.length() - ".meta".length()) + suffix);
    }
}
