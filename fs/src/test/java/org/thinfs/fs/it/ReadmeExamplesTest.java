package org.thinfs.fs.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.fs.it.ReadmeExamples.Kind;
import org.thinfs.fs.it.ReadmeExamples.Step;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README example convention ({@link ReadmeExamples}) and its runner ({@link ExampleScript}), without a mount. */
class ReadmeExamplesTest {
    @TempDir
    Path tmp;

    static final String SAMPLE = String.join("\n",
            "# Title",                                   // 1
            "",                                          // 2
            "Text with $ not a command.",                // 3
            "",                                          // 4
            "    $ x=1",                                 // 5
            "    sample output, not run",                // 6
            "    $ echo hello \\",                       // 7
            "        world",                             // 8
            "",                                          // 9
            "    $ false   # fails: shown on purpose",   // 10
            "<!-- check: [ \"$x\" = 1 ] -->",            // 11
            "<!-- check:",                               // 12
            "  test -n \"$x\"",                          // 13
            "  echo two \\",                             // 14
            "    lines",                                 // 15
            "-->",                                       // 16
            "",                                          // 17
            "    ./not-a-command   # no $ prefix",       // 18
            "",                                          // 19
            "```",                                       // 20
            "    $ in a fence, not run",                 // 21
            "```",                                       // 22
            "");

    @Test
    void parsesCommandsContinuationsFailingCommandsAndChecks() {
        List<Step> steps = ReadmeExamples.parse("R.md", SAMPLE);
        assertEquals(List.of(
                new Step("R.md", 5, Kind.COMMAND, "x=1"),
                new Step("R.md", 7, Kind.COMMAND, "echo hello \\\n    world"),
                new Step("R.md", 10, Kind.FAILING_COMMAND, "false   # fails: shown on purpose"),
                new Step("R.md", 11, Kind.CHECK, "[ \"$x\" = 1 ]"),
                new Step("R.md", 13, Kind.CHECK, "test -n \"$x\""),
                new Step("R.md", 14, Kind.CHECK, "echo two \\\nlines")), steps);
    }

    @Test
    void aCheckThatFollowsNoCommandBlockIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReadmeExamples.parse("R.md", "Text\n\n<!-- check: true -->\n"));
        assertTrue(e.getMessage().startsWith("R.md:3:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ReadmeExamples.parse("R.md", "\n    $ true\n\nprose\n<!-- check: true -->\n"));
        assertTrue(e.getMessage().startsWith("R.md:5:"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReadmeExamples.parse("R.md", "\n    $ true\n<!-- check: true\n"));
    }

    @Test
    void usageLinesWithoutPlaceholdersAreRun() {
        String script = String.join("\n",
                "#!/usr/bin/env bash",
                "# Does things.",
                "#",
                "#   examples/x.sh MOUNTPOINT backup VOL DEST         copy VOL out",
                "#   examples/x.sh MOUNTPOINT demo                    all of the above on a scratch volume",
                "#   examples/x.sh MOUNTPOINT",
                "set -e");
        assertEquals(List.of(new Step("examples/x.sh", 5, Kind.COMMAND, "examples/x.sh /m demo"),
                new Step("examples/x.sh", 6, Kind.COMMAND, "examples/x.sh /m")),
                ReadmeExamples.usageInvocations("examples/x.sh", script, "/m"));
    }

    @Test
    void theRealReadmeParsesAndHasChecks() throws Exception {
        List<Step> steps = ReadmeExamples.parse("README.md", Files.readString(Path.of("../README.md")));
        assertTrue(steps.stream().anyMatch(s -> s.kind() == Kind.CHECK), steps.toString());
        assertTrue(steps.stream().anyMatch(s -> s.text().startsWith("./thinfs mount")), steps.toString());
        assertFalse(steps.stream().anyMatch(s -> s.text().contains("/dev/vg/") || s.text().startsWith("systemctl")
                || s.text().startsWith("dmsetup")), "README commands this machine cannot run: " + steps);
    }

    @Test
    void aSyntheticReadmeWhoseExamplesHoldPasses() throws Exception {
        ExampleScript.Outcome o = run(SAMPLE + "\n    $ mkdir d && cd d\n    $ y=$x$x\n<!-- check: [ \"$y\" = 11 ]"
                + " && [ \"${PWD##*/}\" = d ] -->\n");
        assertTrue(o.ok(), o.describe());
        assertEquals(o.steps().size(), o.stepsRun());
        assertNull(o.failed());
    }

    @Test
    void aBrokenCommandFailsWithItsLineAndOutput() throws Exception {
        ExampleScript.Outcome o = run("\n    $ echo one\n    $ echo about to break; false\n    $ echo never\n");
        assertFalse(o.ok());
        assertEquals(3, o.failed().line());
        assertEquals(1, o.code());
        assertEquals("about to break\n", o.output());
        assertTrue(o.describe().startsWith("R.md:3: command failed (exit 1)"), o.describe());
        assertFalse(o.log().contains("never"), o.log());
    }

    @Test
    void aFalseCheckFailsWithItsLine() throws Exception {
        ExampleScript.Outcome o = run("\n    $ n=3\n\n<!-- check:\n  [ $n -gt 1 ]\n  [ $n -lt 2 ]\n-->\n\n    $ echo later\n");
        assertFalse(o.ok());
        assertEquals(6, o.failed().line());
        assertEquals(Kind.CHECK, o.failed().kind());
        assertTrue(o.describe().contains("R.md:6: check failed"), o.describe());
    }

    @Test
    void aCommandMarkedFailsThatSucceedsFails() throws Exception {
        ExampleScript.Outcome o = run("\n    $ true    # fails: it does not\n");
        assertFalse(o.ok());
        assertEquals(2, o.failed().line());
        assertTrue(o.describe().contains("marked '# fails' but exited 0"), o.describe());
    }

    @Test
    void aSessionThatDiesOrHangsNamesTheStep() throws Exception {
        ExampleScript.Outcome o = run("\n    $ echo a\n    $ exit 7\n    $ echo b\n");
        assertFalse(o.ok());
        assertEquals(3, o.failed().line());
        assertEquals(7, o.code());
        List<Step> steps = ReadmeExamples.parse("R.md", "\n    $ true\n    $ sleep 30\n");
        o = ExampleScript.run(steps, tmp, Map.of(), Duration.ofSeconds(1));
        assertFalse(o.ok());
        assertEquals(3, o.failed().line());
        assertTrue(o.reason().startsWith("timed out"), o.describe());
    }

    private ExampleScript.Outcome run(String markdown) throws Exception {
        return ExampleScript.run(ReadmeExamples.parse("R.md", markdown), tmp, Map.of(), Duration.ofSeconds(30));
    }
}
