package org.thinfs.core.testing;

import org.junit.jupiter.api.Assumptions;
import org.thinfs.core.tools.PoolDump;
import org.thinfs.core.tools.XmlDumpReader;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The thin-provisioning-tools oracle for tests: runs thin_check, thin_dump, thin_restore, thin_ls and thin_delta
 * with a timeout and returns exit code, stdout and stderr. Output goes through temporary files, so a chatty tool
 * can never block on a full pipe. Stateless and thread-safe.
 */
public final class ThinTools {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    private static volatile Boolean installed;

    private ThinTools() {
    }

    /** What a tool run produced. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** Throws with the command and both outputs unless the tool exited 0. */
        public Result requireOk() {
            if (exitCode != 0) {
                throw new AssertionError(this.toString());
            }
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " exited " + exitCode + "\n--- stdout\n" + abbreviate(stdout)
                    + "--- stderr\n" + abbreviate(stderr);
        }

        private static String abbreviate(String s) {
            return s.length() <= 4000 ? s : s.substring(0, 4000) + "\n... (" + s.length() + " chars)\n";
        }
    }

    /** One row of thin_ls output: field name (as in the header) → text. */
    public record LsRow(Map<String, String> fields) {
        public long number(String field) {
            String v = fields.get(field);
            if (v == null) {
                throw new IllegalArgumentException("no field " + field + " in " + fields);
            }
            return Long.parseUnsignedLong(v);
        }
    }

    /** Whether thin_check, thin_dump, thin_restore, thin_ls and thin_delta are all on the PATH. */
    public static boolean isInstalled() {
        Boolean b = installed;
        if (b == null) {
            b = Arrays.stream(new String[]{"thin_check", "thin_dump", "thin_restore", "thin_ls", "thin_delta"})
                    .allMatch(ThinTools::onPath);
            installed = b;
        }
        return b;
    }

    /** Skips the calling test unless the tools are installed. */
    public static void assumeInstalled() {
        Assumptions.assumeTrue(isInstalled(), "thin-provisioning-tools are not installed");
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Runs {@code command} with the default timeout. */
    public static Result run(String... command) {
        return run(DEFAULT_TIMEOUT, command);
    }

    /** Runs {@code command}; a run that exceeds {@code timeout} is killed and fails with an AssertionError. */
    public static Result run(Duration timeout, String... command) {
        List<String> cmd = List.of(command);
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("thintools", ".out");
            err = Files.createTempFile("thintools", ".err");
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", cmd) + " did not finish within " + timeout);
            }
            return new Result(cmd, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + cmd, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }

    /** {@code thin_check [options] META}. */
    public static Result check(Path metadata, String... options) {
        List<String> cmd = new ArrayList<>();
        cmd.add("thin_check");
        Collections.addAll(cmd, options);
        cmd.add(metadata.toString());
        return run(cmd.toArray(String[]::new));
    }

    /** {@code thin_dump [-m] META}. */
    public static Result dump(Path metadata, boolean metadataSnap) {
        return metadataSnap ? run("thin_dump", "-m", metadata.toString()) : run("thin_dump", metadata.toString());
    }

    /** thin_dump's output parsed into the dump IR; fails if thin_dump fails. */
    public static PoolDump dumpIr(Path metadata, boolean metadataSnap) {
        Result r = dump(metadata, metadataSnap).requireOk();
        return XmlDumpReader.parse(r.stdout(), "thin_dump " + metadata);
    }

    /** {@code thin_restore -i XML -o META}; the output file must exist and be large enough. */
    public static Result restore(Path xml, Path metadata) {
        return run("thin_restore", "-i", xml.toString(), "-o", metadata.toString());
    }

    /** {@code thin_ls --format FIELDS META}. */
    public static Result ls(Path metadata, String fields) {
        return run("thin_ls", "--format", fields, metadata.toString());
    }

    /** thin_ls with the given comma-separated fields, parsed into rows; fails if thin_ls fails. */
    public static List<LsRow> lsRows(Path metadata, String fields) {
        return parseLs(ls(metadata, fields).requireOk().stdout());
    }

    /** Parses thin_ls output with a header line: whitespace-separated columns named by the header. */
    public static List<LsRow> parseLs(String text) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("thin_ls printed nothing");
        }
        String[] header = lines.get(0).trim().split("\\s+");
        List<LsRow> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length != header.length) {
                throw new IllegalArgumentException("thin_ls row has " + cols.length + " columns, header "
                        + header.length + ": " + line);
            }
            Map<String, String> m = new LinkedHashMap<>();
            for (int i = 0; i < cols.length; i++) {
                m.put(header[i], cols[i]);
            }
            rows.add(new LsRow(Collections.unmodifiableMap(m)));
        }
        return rows;
    }

    /** {@code thin_delta --snap1 A --snap2 B META}. */
    public static Result delta(Path metadata, long snap1, long snap2, String... options) {
        List<String> cmd = new ArrayList<>(List.of("thin_delta", "--snap1", Long.toString(snap1), "--snap2",
                Long.toString(snap2)));
        Collections.addAll(cmd, options);
        cmd.add(metadata.toString());
        return run(cmd.toArray(String[]::new));
    }
}
