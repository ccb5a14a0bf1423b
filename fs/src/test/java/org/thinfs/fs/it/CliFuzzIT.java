package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.testing.ThinTools;
import org.thinfs.fs.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded random arguments to every subcommand, run in this JVM through {@link Main#execute}: sizes that are not
 * sizes, paths that are files, links, devices, missing or not pools, a damaged pool, a good unmounted pool and one
 * mounted right now. Every failure must be exit code 1 or 2 with exactly one line on stderr and no Java internals;
 * a failed command leaves the folder as it was; at the end every pool touched passes thin_check. The seed and the
 * invocation index are in every failure message.
 *
 * <p>Invocations: {@code -Dthinfs.clifuzz.runs=N} (default 400), seed {@code -Dthinfs.clifuzz.seed=S}.
 */
class CliFuzzIT {
    private static final String[] COMMANDS = {"check", "dump", "restore", "ls", "delta", "export-diff",
        "import-diff", "repair", "resize", "status", "create", "mount", "umount"};
    private static final String[] SIZES = {"", "0", "-1", "1x", "99999999999999999999999", "1P", "16E", "1k",
        "abc", "64k", "1.5G", "0x10", "100T", "7", "1M", "-5G", " 1G"};
    private static final String[] FLAGS = {"--size", "--block-size", "--metadata-size", "--data", "--metadata",
        "-i", "-o", "-m", "--format", "--json", "-q", "--foreground", "--commit-interval", "--fuse-threads",
        "--max-request", "--metadata-cache", "-o", "--clear-needs-check-flag", "--nope", "-", "--"};
    private static final String[] WORDS = {"xml", "json", "1", "0", "-", "vol", "snapshots/s/vol", "dev-1", "999",
        "allow_other", "ro", "nonempty", "1s", "0ms", "-3", "banana", "\n", "a b", "../..", ""};

    @TempDir
    Path tmp;

    private List<String> paths;

    @Test
    void randomArgumentsGetOneSentenceAndLeaveNothingBehind() throws Exception {
        long seed = Long.getLong("thinfs.clifuzz.seed", 20261201L);
        int runs = Integer.getInteger("thinfs.clifuzz.runs", 400);
        Path work = Files.createDirectories(tmp.resolve("work"));
        try (MountedPool live = new MountedPool(work, "64M")) {
            live.sh("truncate -s 1M vol && mkdir snapshots/s && echo hi > vol").ok();
            setUp(work);
            Random rnd = new Random(seed);
            for (int i = 0; i < runs; i++) {
                List<String> args = randomArguments(rnd);
                String where = "seed " + seed + " invocation " + i + ": thinfs " + String.join(" ", args);
                TreeSet<String> before = listing(work);
                String[] result = run(args);
                int code = Integer.parseInt(result[0]);
                String err = result[1].strip();
                assertTrue(code >= 0 && code <= 2, where + " exited " + code);
                assertFalse(err.contains("Exception") || err.contains("\tat ") || err.matches("(?s).*\\bjava\\.[a-z]+\\..*"),
                        where + " showed Java internals:\n" + err);
                // check's findings are its report (stdout, exit 1); every other failure is one sentence on stderr.
                boolean report = args.get(0).equals("check") && code == 1 && err.isEmpty() && !result[2].isBlank();
                if (code != 0 && !report) {
                    assertEquals(1, err.lines().count(), where + " must say one sentence on stderr, said:\n" + err);
                    assertEquals(before, listing(work), where + " failed and changed the folder");
                }
            }
            assertTrue(live.mounted(), "the mounted pool is still mounted");
            live.sh("cat vol").ok();
        }
        for (String pool : List.of("pool", "good")) {
            assertEquals(0, ThinTools.check(work.resolve(pool).resolve("metadata")).exitCode(), pool);
        }
        try (Stream<Path> all = Files.list(work)) {
            for (Path p : all.toList()) {
                if (Files.isRegularFile(p.resolve("metadata")) && !p.getFileName().toString().equals("bad")) {
                    assertEquals(0, ThinTools.check(p.resolve("metadata")).exitCode(), "pool made by the fuzz " + p);
                }
            }
        }
    }

    /** The things arguments point at. {@code pool} and {@code mnt} are the live pool (MountedPool). */
    private void setUp(Path work) throws Exception {
        Files.writeString(work.resolve("afile"), "not a pool\n");
        Files.createDirectories(work.resolve("emptydir"));
        Files.createDirectories(work.resolve("notpool"));
        Files.writeString(work.resolve("notpool/readme"), "x");
        Files.createSymbolicLink(work.resolve("filelink"), work.resolve("afile"));
        Files.createSymbolicLink(work.resolve("dirlink"), work.resolve("emptydir"));
        Files.createSymbolicLink(work.resolve("dangling"), work.resolve("nowhere"));
        assertEquals("0", run(List.of("create", work.resolve("good").toString(), "--size", "32M"))[0]);
        assertEquals("0", run(List.of("create", work.resolve("bad").toString(), "--size", "32M"))[0]);
        try (var f = new java.io.RandomAccessFile(work.resolve("bad/metadata").toFile(), "rw")) {
            f.seek(64);
            f.write(0x5a);
        }
        Files.writeString(work.resolve("garbage.xml"), "<superblock uuid=\"\" time=\"x\"><oops");
        paths = new ArrayList<>();
        for (String p : List.of("pool", "mnt", "good", "bad", "afile", "emptydir", "notpool", "filelink", "dirlink",
                "dangling", "missing", "missing/deeper", "garbage.xml", "pool/metadata", "good/metadata",
                "good/data")) {
            paths.add(work.resolve(p).toString());
        }
        paths.addAll(List.of("/dev/null", "/dev/zero", "/proc/self/status", "/", ""));
    }

    private List<String> randomArguments(Random rnd) {
        List<String> args = new ArrayList<>();
        args.add(COMMANDS[rnd.nextInt(COMMANDS.length)]);
        int n = rnd.nextInt(6);
        for (int k = 0; k < n; k++) {
            switch (rnd.nextInt(4)) {
                case 0 -> args.add(paths.get(rnd.nextInt(paths.size())));
                case 1 -> args.add(SIZES[rnd.nextInt(SIZES.length)]);
                case 2 -> {
                    args.add(FLAGS[rnd.nextInt(FLAGS.length)]);
                    args.add(rnd.nextBoolean() ? SIZES[rnd.nextInt(SIZES.length)] : paths.get(rnd.nextInt(paths.size())));
                }
                default -> args.add(WORDS[rnd.nextInt(WORDS.length)]);
            }
        }
        // A mount that could succeed would start a daemon: give it a mount point that cannot work.
        if (args.get(0).equals("mount") && !args.contains("--foreground")) {
            args.add(paths.get(4));
        }
        if (args.contains("--foreground")) {
            args.set(0, "status");
        }
        return args;
    }

    /** Runs one command in this JVM; returns {exit code, stderr, stdout}. */
    private static synchronized String[] run(List<String> args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(e, true, StandardCharsets.UTF_8);
             PrintStream sink = new PrintStream(o, true, StandardCharsets.UTF_8)) {
            System.setOut(sink);
            System.setErr(capture);
            int code = Main.execute(args.toArray(new String[0]));
            capture.flush();
            // The launcher runs with log level warn: info and debug lines never reach a user's terminal.
            String shown = e.toString(StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.matches("^\\[[^]]*\\] (INFO|DEBUG) .*"))
                    .collect(java.util.stream.Collectors.joining("\n"));
            return new String[]{Integer.toString(code), shown, o.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /** Names under the folder, two levels deep, leaving out what the live daemon writes. */
    private static TreeSet<String> listing(Path work) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(work, 2)) {
            walk.map(p -> work.relativize(p).toString())
                    .filter(n -> !n.startsWith("pool") && !n.startsWith("mnt"))
                    .forEach(names::add);
        }
        return names;
    }
}
