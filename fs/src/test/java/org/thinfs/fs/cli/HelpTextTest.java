package org.thinfs.fs.cli;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code --help} of every command, as picocli renders it at 80 and at 120 columns: no line is wider than that,
 * and no word of a description is broken across two lines (picocli wraps each description element by itself, so an
 * element hard-wrapped in the source was wrapped twice, and picocli may split a word at its punctuation).
 */
class HelpTextTest {
    private static final int[] WIDTHS = {80, 120};

    /** Main's command tree, the root first, then every subcommand at any depth. */
    private static List<CommandLine> commands() {
        List<CommandLine> all = new ArrayList<>();
        Set<CommandLine> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        walk(Main.commandLine(), all, seen);
        return all;
    }

    private static void walk(CommandLine cl, List<CommandLine> all, Set<CommandLine> seen) {
        if (!seen.add(cl)) {
            return; // an alias names the same CommandLine again
        }
        all.add(cl);
        for (CommandLine sub : cl.getSubcommands().values()) {
            walk(sub, all, seen);
        }
    }

    private static String render(CommandLine cl, int width) {
        // a fixed width, whatever the terminal running the test (picocli.usage.width=AUTO would override autoWidth(false))
        String old = System.clearProperty("picocli.usage.width");
        try {
            cl.getCommandSpec().usageMessage().autoWidth(false).width(width);
            return cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
        } finally {
            if (old != null) {
                System.setProperty("picocli.usage.width", old);
            }
        }
    }

    /**
     * The description texts of a command as its model holds them: header, description, options and parameters, and
     * the line each subcommand has in its list of commands (the subcommand's header, or the first element of its
     * description when it has none).
     */
    private static List<String> descriptions(CommandSpec spec) {
        List<String> texts = new ArrayList<>();
        Collections.addAll(texts, spec.usageMessage().header());
        Collections.addAll(texts, spec.usageMessage().description());
        for (CommandLine sub : spec.subcommands().values()) {
            CommandLine.Model.UsageMessageSpec u = sub.getCommandSpec().usageMessage();
            String[] summary = u.header().length > 0 ? u.header() : u.description();
            if (summary.length > 0 && !u.hidden()) {
                texts.add(summary[0]);
            }
        }
        List<ArgSpec> args = new ArrayList<>(spec.options());
        args.addAll(spec.positionalParameters());
        for (ArgSpec a : args) {
            if (!a.hidden()) {
                Collections.addAll(texts, a.description());
            }
        }
        return texts;
    }

    /** Words separated by single spaces, so that a line break between two words counts as the space it replaced. */
    private static String words(String s) {
        return String.join(" ", s.replace("%n", "\n").replace("%%", "%").trim().split("\\s+"));
    }

    @TestFactory
    Stream<DynamicTest> everyCommandsHelpFitsAndKeepsItsWordsWhole() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int width : WIDTHS) {
            for (CommandLine cl : commands()) {
                String name = cl.getCommandSpec().qualifiedName();
                tests.add(DynamicTest.dynamicTest(name + " --help at " + width + " columns", () -> {
                    String help = render(cl, width);
                    List<String> problems = new ArrayList<>();
                    for (String line : help.split("\\R")) {
                        if (line.length() > width) {
                            problems.add("line of " + line.length() + " columns: " + line);
                        }
                    }
                    String rendered = " " + words(help) + " ";
                    for (String text : descriptions(cl.getCommandSpec())) {
                        for (String word : words(text).split(" ")) {
                            if (!word.isEmpty() && !rendered.contains(" " + word + " ")) {
                                problems.add("word broken or missing: '" + word + "'");
                            }
                        }
                        String whole = words(text);
                        if (!whole.isEmpty() && !rendered.contains(" " + whole + " ")) {
                            problems.add("description not rendered as one run of words: " + whole);
                        }
                    }
                    assertTrue(problems.isEmpty(), name + " --help at " + width + " columns:\n  "
                            + String.join("\n  ", problems) + "\n" + help);
                }));
            }
        }
        return tests.stream();
    }

    /**
     * picocli puts every element of a description array on a line of its own, so an element is a paragraph (or a
     * preformatted line): one that stops mid-sentence, with more of the sentence in the next element, was hard-wrapped
     * in the source and shows as a short line in the middle of the paragraph ("(control" | "socket,").
     */
    @Test
    void noParagraphIsSplitAcrossDescriptionElements() {
        List<String> split = new ArrayList<>();
        for (CommandLine cl : commands()) {
            CommandSpec spec = cl.getCommandSpec();
            List<String[]> arrays = new ArrayList<>();
            arrays.add(spec.usageMessage().header());
            arrays.add(spec.usageMessage().description());
            spec.options().forEach(o -> arrays.add(o.description()));
            spec.positionalParameters().forEach(p -> arrays.add(p.description()));
            for (String[] elements : arrays) {
                for (int i = 0; i + 1 < elements.length; i++) {
                    String end = elements[i].strip();
                    boolean endsSentence = end.isEmpty() || ".:!?".indexOf(end.charAt(end.length() - 1)) >= 0;
                    boolean nextIsPreformatted = elements[i + 1].startsWith(" ");
                    if (!endsSentence && !nextIsPreformatted) {
                        split.add(spec.qualifiedName() + ": \"" + elements[i] + "\" | \"" + elements[i + 1] + "\"");
                    }
                }
            }
        }
        assertTrue(split.isEmpty(), "paragraphs hard-wrapped in the source:\n  " + String.join("\n  ", split));
    }

    /** Where picocli would break a word depends on where it falls in the line: widths from 60 to 200, by 3. */
    @Test
    void noWordOfADescriptionIsBrokenAtAnyWidth() {
        List<String> broken = new ArrayList<>();
        List<CommandLine> commands = commands();
        for (int width = 60; width <= 200; width += 3) {
            for (CommandLine cl : commands) {
                String rendered = " " + words(render(cl, width)) + " ";
                for (String text : descriptions(cl.getCommandSpec())) {
                    if (!rendered.contains(" " + words(text) + " ")) {
                        broken.add(cl.getCommandSpec().qualifiedName() + " at " + width + ": " + words(text));
                    }
                }
            }
        }
        assertTrue(broken.isEmpty(), "descriptions with a broken word:\n  " + String.join("\n  ", broken));
    }

    @Test
    void everyCommandWrapsToTheTerminalWidth() {
        String old = System.clearProperty("picocli.usage.width");
        try {
            List<String> fixed = new ArrayList<>();
            for (CommandLine cl : commands()) {
                if (!cl.isUsageHelpAutoWidth()) {
                    fixed.add(cl.getCommandSpec().qualifiedName());
                }
            }
            assertTrue(fixed.isEmpty(), "help at a fixed width instead of the terminal's: " + fixed);
        } finally {
            if (old != null) {
                System.setProperty("picocli.usage.width", old);
            }
        }
    }
}
