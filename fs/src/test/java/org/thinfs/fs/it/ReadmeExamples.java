package org.thinfs.fs.it;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The executable examples of a Markdown file (README.md), by a small convention:
 * <ul>
 * <li>In an indented (4-space) code block, a line starting with {@code $ } is a command (the text after it); a
 * trailing {@code \} continues it onto the next line. Other lines of the block are sample output and are not
 * compared.</li>
 * <li>A command whose trailing comment starts with {@code # fails} must exit non-zero (an error shown on
 * purpose).</li>
 * <li>{@code <!-- check: SHELL -->} right after a code block (or after another check), one or more lines, states a
 * claim: every line is a command run in the same session after the block, and must exit 0. Rendered Markdown
 * shows nothing of it.</li>
 * </ul>
 * Fenced blocks and code blocks without {@code $ } lines are never run. Pure: parsing only; {@link ExampleScript}
 * runs the steps.
 */
final class ReadmeExamples {
    enum Kind {
        /** Must exit 0. */
        COMMAND,
        /** Marked {@code # fails}: must exit non-zero. */
        FAILING_COMMAND,
        /** A line of a {@code <!-- check: -->} comment: must exit 0. */
        CHECK
    }

    /** One command to run, with where it came from ({@code source} is a file name, {@code line} 1-based). */
    record Step(String source, int line, Kind kind, String text) {
        String where() {
            return source + ":" + line;
        }

        @Override
        public String toString() {
            return where() + " " + (kind == Kind.CHECK ? "check: " : "$ ") + text;
        }
    }

    private static final Pattern FAILS = Pattern.compile("(^|\\s)#\\s*fails\\b");
    private static final Pattern CHECK_OPEN = Pattern.compile("^<!--\\s*check:(.*)$");

    private ReadmeExamples() {
    }

    /** The steps of {@code markdown}, in order. Throws IllegalArgumentException (with the line) on a misplaced check. */
    static List<Step> parse(String source, String markdown) {
        String[] lines = markdown.split("\n", -1);
        List<Step> steps = new ArrayList<>();
        boolean inBlock = false;
        boolean blockHadCommand = false;
        boolean fenced = false;
        boolean prevBlank = true;
        // after a code block or a check, only blank lines so far: a check may go here
        boolean checkAllowed = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            boolean blank = line.isBlank();
            if (fenced) {
                if (line.startsWith("```")) {
                    fenced = false;
                }
                prevBlank = false;
                continue;
            }
            if (!inBlock && line.startsWith("```")) {
                fenced = true;
                checkAllowed = false;
                continue;
            }
            boolean indented = line.startsWith("    ") || line.startsWith("\t");
            if (indented && (inBlock || prevBlank)) {
                if (!inBlock) {
                    inBlock = true;
                    blockHadCommand = false;
                }
                String code = line.startsWith("\t") ? line.substring(1) : line.substring(4);
                if (code.startsWith("$ ")) {
                    int first = i;
                    StringBuilder cmd = new StringBuilder(code.substring(2));
                    while (endsWithContinuation(cmd) && i + 1 < lines.length && isIndented(lines[i + 1])) {
                        i++;
                        cmd.append('\n').append(stripIndent(lines[i]));
                    }
                    String text = cmd.toString();
                    steps.add(new Step(source, first + 1,
                            FAILS.matcher(text).find() ? Kind.FAILING_COMMAND : Kind.COMMAND, text));
                    blockHadCommand = true;
                }
                prevBlank = false;
                continue;
            }
            if (blank) {
                if (inBlock) {
                    // a blank line inside a block does not end it; the next non-indented line does
                    checkAllowed = blockHadCommand;
                }
                prevBlank = true;
                continue;
            }
            if (inBlock) {
                inBlock = false;
                checkAllowed = blockHadCommand;
            }
            Matcher m = CHECK_OPEN.matcher(line);
            if (m.matches()) {
                if (!checkAllowed) {
                    throw new IllegalArgumentException(source + ":" + (i + 1)
                            + ": a check must follow a code block with $ commands (or another check)");
                }
                int start = i;
                List<String> body = new ArrayList<>();
                List<Integer> bodyLines = new ArrayList<>();
                String rest = m.group(1);
                while (true) {
                    int close = rest.indexOf("-->");
                    String part = close >= 0 ? rest.substring(0, close) : rest;
                    body.add(part);
                    bodyLines.add(i + 1);
                    if (close >= 0) {
                        if (!rest.substring(close + 3).isBlank()) {
                            throw new IllegalArgumentException(source + ":" + (i + 1) + ": text after -->");
                        }
                        break;
                    }
                    if (++i >= lines.length) {
                        throw new IllegalArgumentException(source + ":" + (start + 1) + ": check without -->");
                    }
                    rest = lines[i];
                }
                int before = steps.size();
                for (int k = 0; k < body.size(); k++) {
                    String text = body.get(k).strip();
                    if (text.isEmpty()) {
                        continue;
                    }
                    int at = bodyLines.get(k);
                    StringBuilder cmd = new StringBuilder(text);
                    while (endsWithContinuation(cmd) && k + 1 < body.size()) {
                        cmd.append('\n').append(body.get(++k).strip());
                    }
                    steps.add(new Step(source, at, Kind.CHECK, cmd.toString()));
                }
                if (steps.size() == before) {
                    throw new IllegalArgumentException(source + ":" + (start + 1) + ": empty check");
                }
                checkAllowed = true;
                prevBlank = false;
                continue;
            }
            checkAllowed = false;
            prevBlank = false;
        }
        return steps;
    }

    /**
     * The runnable usage lines of an example script's header: comment lines {@code #   examples/NAME.sh MOUNTPOINT
     * [word...]} whose arguments after MOUNTPOINT are literal lower-case words separated by single spaces (no
     * placeholder such as VOL), followed by nothing or by two or more spaces and a description. Each becomes a
     * command with MOUNTPOINT replaced by {@code mountpoint} (a shell word).
     */
    static List<Step> usageInvocations(String path, String script, String mountpoint) {
        List<Step> steps = new ArrayList<>();
        Pattern usage = Pattern.compile("^#\\s+(" + Pattern.quote(path) + ")\\s+MOUNTPOINT((?: [a-z0-9][a-z0-9-]*)*)"
                + "(\\s{2,}.*)?$");
        String[] lines = script.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            Matcher m = usage.matcher(lines[i].stripTrailing());
            if (m.matches()) {
                steps.add(new Step(path, i + 1, Kind.COMMAND, m.group(1) + " " + mountpoint + m.group(2)));
            }
        }
        return steps;
    }

    private static boolean endsWithContinuation(CharSequence s) {
        return s.length() > 0 && s.charAt(s.length() - 1) == '\\';
    }

    private static boolean isIndented(String line) {
        return line.startsWith("    ") || line.startsWith("\t");
    }

    private static String stripIndent(String line) {
        return line.startsWith("\t") ? line.substring(1) : line.substring(4);
    }
}
