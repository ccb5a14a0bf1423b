package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.fs.it.ReadmeExamples.Kind;
import org.thinfs.fs.it.ReadmeExamples.Step;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's examples are tests: every {@code $ } command of README.md (and its {@code <!-- check: -->} claims,
 * see {@link ReadmeExamples}) runs in order in one bash session, in a fresh directory where {@code ./thinfs} is the
 * repository's script and {@code examples} its examples directory, against the real mount the README makes. Then
 * every runnable usage line of {@code examples/*.sh} runs against that same mount, and at last the pool is
 * unmounted and {@code thinfs check} must find it clean. Maven is never run: a stale jar fails the test instead of
 * being rebuilt.
 */
class ReadmeExamplesIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    @Test
    void everyReadmeExampleAndExampleScriptRunsAndItsChecksHold() throws Exception {
        List<Step> steps = new ArrayList<>(ReadmeExamples.parse("README.md", Files.readString(ROOT.resolve("README.md"))));
        assertTrue(steps.stream().filter(s -> s.kind() != Kind.CHECK).count() >= 10, "README commands: " + steps);
        assertTrue(steps.stream().anyMatch(s -> s.kind() == Kind.CHECK), "README checks: " + steps);
        String mnt = "'" + tmp.resolve("mnt") + "'";
        List<Path> scripts;
        try (Stream<Path> s = Files.list(ROOT.resolve("examples"))) {
            scripts = s.filter(p -> p.toString().endsWith(".sh")).sorted().toList();
        }
        assertFalse(scripts.isEmpty());
        for (Path script : scripts) {
            String name = "examples/" + script.getFileName();
            List<Step> runs = ReadmeExamples.usageInvocations(name, Files.readString(script), mnt);
            assertFalse(runs.isEmpty(), name + " has no usage line that runs without placeholders "
                    + "(#   " + name + " MOUNTPOINT [literal words]   description)");
            steps.addAll(runs);
        }
        steps.add(new Step("ReadmeExamplesIT", 0, Kind.COMMAND, "cd " + tmp + " && ./thinfs umount mnt"));
        steps.add(new Step("ReadmeExamplesIT", 0, Kind.CHECK, "./thinfs check pool"));

        Files.createSymbolicLink(tmp.resolve("thinfs"), ROOT.resolve("thinfs"));
        Files.createSymbolicLink(tmp.resolve("examples"), ROOT.resolve("examples"));
        // ./thinfs rebuilds a stale jar with Maven; here a stale jar is an error, never a build
        Path bin = Files.createDirectories(tmp.resolve(".bin"));
        Path mvn = bin.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\necho 'ReadmeExamplesIT: fs/target/thinfs.jar is older than the sources;"
                + " build first (mvn -DskipTests install)' >&2\nexit 1\n");
        mvn.toFile().setExecutable(true);
        Map<String, String> env = Map.of("PATH", bin + ":" + System.getenv("PATH"));

        long t0 = System.nanoTime();
        ExampleScript.Outcome o;
        try {
            o = ExampleScript.run(steps, tmp, env, Duration.ofSeconds(170));
        } finally {
            unmountEverythingUnder(tmp);
        }
        System.out.printf("ReadmeExamplesIT: %d steps (%d checks) in %.1f s%n", steps.size(),
                steps.stream().filter(s -> s.kind() == Kind.CHECK).count(), (System.nanoTime() - t0) / 1e9);
        assertTrue(o.ok(), o.describe());
        assertEquals(steps.size(), o.stepsRun());
    }

    /**
     * Lazy unmounts of every mount below {@code dir} or of a loop device backed by a file below it (an example killed
     * by the timeout leaves its own), loop devices first, deepest first; then detaches those loop devices.
     */
    static void unmountEverythingUnder(Path dir) throws Exception {
        String below = dir + "/";   // not a sibling such as /tmp/junit12 of /tmp/junit1
        Path cwd = dir.getParent();
        List<String> loops = new ArrayList<>();
        Sh.Result list = Sh.run(cwd, List.of("losetup", "--list", "--noheadings", "-O", "NAME,BACK-FILE"));
        for (String line : list.out().split("\n")) {
            String[] f = line.trim().split("\\s+", 2);
            if (f.length == 2 && f[1].startsWith(below)) {
                loops.add(f[0]);
            }
        }
        List<String> onLoops = new ArrayList<>();
        List<String[]> mounts = new ArrayList<>();   // {where, type}
        for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
            String[] f = line.split(" ");
            String where = f[1].replace("\\040", " ");
            if (loops.contains(f[0])) {
                onLoops.add(where);
            } else if (where.startsWith(below)) {
                mounts.add(new String[] {where, f[2]});
            }
        }
        mounts.sort(Comparator.comparingInt((String[] m) -> m[0].length()).reversed());
        for (String where : onLoops) {
            Sh.run(cwd, List.of("umount", "-l", where));
        }
        for (String[] m : mounts) {
            Sh.run(cwd, m[1].startsWith("fuse") ? List.of("fusermount", "-u", "-z", m[0]) : List.of("umount", "-l", m[0]));
        }
        for (String loop : loops) {
            Sh.run(cwd, List.of("losetup", "-d", loop));
        }
    }
}
