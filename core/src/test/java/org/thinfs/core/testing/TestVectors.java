package org.thinfs.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The repository's test vectors ({@code core/src/test/resources/vectors}, see its README), laid out once per build in
 * {@code core/target/test-vectors}: every top-level {@code NAME.meta} is regenerated from {@code NAME.xml} with the
 * installed {@code thin_restore}, {@code *.meta.gz} and {@code *.xml.gz} are decompressed, the rest is copied. The
 * layout is built in a temporary folder and renamed into place, so a test never sees half of it.
 */
public final class TestVectors {
    private static Path laidOut;

    private TestVectors() {
    }

    /** The repository's root: the nearest folder at or above the working directory that holds core/src/test. */
    public static Path repository() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("core/src/test/resources/vectors"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find core/src/test/resources/vectors above " + Path.of("").toAbsolutePath());
    }

    /** The kernel harness, {@code tools/kernel-check/kernel-check.sh}. */
    public static Path kernelCheckScript() {
        return repository().resolve("tools/kernel-check/kernel-check.sh");
    }

    /** The laid-out vectors: {@code NAME.meta}, {@code NAME.xml}, ... and {@code kernel/}. */
    public static synchronized Path testdata() {
        if (laidOut == null) {
            Path root = repository();
            Path target = root.resolve("core/target/test-vectors");
            try {
                if (!Files.exists(target.resolve(".complete"))) {
                    layOut(root.resolve("core/src/test/resources/vectors"), target);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            laidOut = target;
        }
        return laidOut;
    }

    private static void layOut(Path source, Path target) throws IOException, InterruptedException {
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), "test-vectors.");
        for (String sub : List.of("", "kernel")) {
            Path into = Files.createDirectories(tmp.resolve(sub));
            try (Stream<Path> files = Files.list(source.resolve(sub))) {
                for (Path f : files.filter(Files::isRegularFile).sorted().collect(Collectors.toList())) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".meta.gz") || name.endsWith(".xml.gz")) {
                        try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
                            Files.copy(in, into.resolve(name.substring(0, name.length() - 3)));
                        }
                    } else {
                        Files.copy(f, into.resolve(name));
                    }
                }
            }
        }
        try (Stream<Path> xml = Files.list(tmp)) {
            for (Path x : xml.filter(TestVectors::isVectorXml).collect(Collectors.toList())) {
                restore(x, sibling(x, ".xml", ".meta"));
            }
        }
        Files.createFile(tmp.resolve(".complete"));
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException raced) {
            if (!Files.exists(target.resolve(".complete"))) {
                throw raced;
            }
        }
    }

    /** {@code NAME.xml}, not {@code NAME.dump.xml} or {@code NAME.delta-1-2.xml}. */
    private static boolean isVectorXml(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".xml") && n.indexOf('.') == n.length() - ".xml".length();
    }

    /** thin_restore needs an output file that already exists; every vector is a 4 MiB metadata file. */
    private static void restore(Path xml, Path meta) throws IOException, InterruptedException {
        try (var f = java.nio.channels.FileChannel.open(meta, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0);
            f.write(java.nio.ByteBuffer.allocate(1), (4L << 20) - 1);
        }
        Process p = new ProcessBuilder("thin_restore", "-i", xml.toString(), "-o", meta.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("thin_restore of " + xml + " failed: " + out);
        }
    }

    private static Path sibling(Path p, String suffix, String replacement) {
        String n = p.getFileName().toString();
        return p.resolveSibling(n.substring(0, n.length() - suffix.length()) + replacement);
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
        return sibling(meta, ".meta", suffix);
    }
}
