package org.thinfs.fs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

import java.util.IllegalFormatException;
import java.util.List;
import java.util.Map;

/**
 * picocli's usage help, wrapped at spaces only. picocli breaks lines where {@link java.text.BreakIterator} allows,
 * which includes the middle of a path or a name: after a dot ({@code SBIN/mount.} | {@code fuse.thinfs}), before a
 * parenthesis ({@code mount} | {@code (8)}), after a colon. The sections here are laid out as picocli lays them out,
 * in tables that move whole words to the next line; only a word longer than a whole line is cut, where it is full.
 */
final class SpaceWrappedHelp extends CommandLine.Help {
    static final CommandLine.IHelpFactory FACTORY = SpaceWrappedHelp::new;

    SpaceWrappedHelp(CommandSpec spec, ColorScheme colorScheme) {
        super(spec, colorScheme);
    }

    /** picocli's (private) UsageMessageSpec.MAX_SYNOPSIS_AUTO_INDENT_THRESHOLD. */
    private static final double MAX_SYNOPSIS_AUTO_INDENT_THRESHOLD = 0.9;

    private UsageMessageSpec usage() {
        return commandSpec().usageMessage();
    }

    private int width() {
        return usage().width();
    }

    @Override
    public String header(Object... params) {
        return lines(usage().header(), params);
    }

    @Override
    public String description(Object... params) {
        return lines(usage().description(), params);
    }

    @Override
    public String footer(Object... params) {
        return lines(usage().footer(), params);
    }

    @Override
    public String customSynopsis(Object... params) {
        return lines(usage().customSynopsis(), params);
    }

    /** As picocli's {@code Help.join}: each value its own paragraph, full width, wrapped lines not indented. */
    private String lines(String[] values, Object... params) {
        if (values == null || values.length == 0) {
            return "";
        }
        Table table = new Table(colorScheme(), new Column(width(), 0, Column.Overflow.SPAN));
        table.setAdjustLineBreaksForWideCJKCharacters(usage().adjustLineBreaksForWideCJKCharacters());
        table.indentWrappedLines = 0;
        for (String value : values) {
            table.addRowValues(format(value, params));
        }
        return table.toString();
    }

    @Override
    protected String insertSynopsisCommandName(int synopsisHeadingLength, Text details) {
        if (synopsisHeadingLength < 0) {
            throw new IllegalArgumentException("synopsisHeadingLength must be a positive number but was "
                    + synopsisHeadingLength);
        }
        String commandName = commandSpec().qualifiedName();
        int indent = synopsisHeadingLength + commandName.length() + 1;
        if (indent > usage().synopsisAutoIndentThreshold() * width()) {
            indent = usage().synopsisIndent() < 0 ? synopsisHeadingLength : usage().synopsisIndent();
            indent = Math.min(indent, (int) (MAX_SYNOPSIS_AUTO_INDENT_THRESHOLD * width()));
        }
        Table table = new Table(colorScheme(), new Column(width(), 0, Column.Overflow.SPAN));
        table.setAdjustLineBreaksForWideCJKCharacters(usage().adjustLineBreaksForWideCJKCharacters());
        table.indentWrappedLines = indent;
        // the heading ("Usage: ") is printed before this: hold its place with as many characters, then cut them off
        Text padding = CommandLine.Help.Ansi.OFF.new Text("X".repeat(synopsisHeadingLength), colorScheme());
        table.addRowValues(padding.concat(colorScheme().commandText(commandName)).concat(details));
        return table.toString().substring(synopsisHeadingLength);
    }

    @Override
    public Layout createDefaultLayout(List<OptionSpec> options, List<PositionalParamSpec> positionals,
            ColorScheme scheme) {
        int longOptionsWidth = calcLongOptionColumnWidth(options, positionals, scheme);
        Table table = new Table(scheme, TextTable.forDefaultColumns(scheme, longOptionsWidth, width()).columns());
        table.setAdjustLineBreaksForWideCJKCharacters(usage().adjustLineBreaksForWideCJKCharacters());
        return new Layout(scheme, table, createDefaultOptionRenderer(), createDefaultParameterRenderer());
    }

    @Override
    public String commandList(Map<String, CommandLine.Help> subcommands) {
        if (subcommands.isEmpty()) {
            return "";
        }
        int commandLength = Math.min(subcommands.keySet().stream().mapToInt(String::length).max().orElse(0),
                width() / 2);
        Table table = new Table(colorScheme(), new Column(commandLength + 2, 2, Column.Overflow.SPAN),
                new Column(width() - (commandLength + 2), 2, Column.Overflow.WRAP));
        table.setAdjustLineBreaksForWideCJKCharacters(usage().adjustLineBreaksForWideCJKCharacters());
        for (CommandLine.Help help : subcommands.values()) {
            UsageMessageSpec u = help.commandSpec().usageMessage();
            String summary = u.header().length > 0 ? u.header()[0]
                    : u.description().length > 0 ? u.description()[0] : "";
            Text[] lines = colorScheme().text(format(summary)).splitLines();
            for (int i = 0; i < lines.length; i++) {
                table.addRowValues(i == 0 ? help.commandNamesText(", ") : colorScheme().text(""), lines[i]);
            }
        }
        return table.toString();
    }

    @Override
    public TextTable createTextTable(Map<?, ?> map) {
        if (map == null || map.isEmpty()) {
            return new Table(colorScheme(), new Column(10, 0, Column.Overflow.SPAN),
                    new Column(width() - 10, 0, Column.Overflow.SPAN));
        }
        int keyLength = Math.min(width() - 4, map.keySet().stream().mapToInt(k -> String.valueOf(k).length()).max()
                .orElse(0));
        Table table = new Table(colorScheme(), new Column(keyLength + 3, 2, Column.Overflow.SPAN),
                new Column(width() - (keyLength + 3), 2, Column.Overflow.WRAP));
        table.setAdjustLineBreaksForWideCJKCharacters(usage().adjustLineBreaksForWideCJKCharacters());
        for (Map.Entry<?, ?> e : map.entrySet()) {
            table.addRowValues(format(String.valueOf(e.getKey())), format(String.valueOf(e.getValue())));
        }
        return table;
    }

    /** As picocli formats help text: {@code %n} and other format specifiers, the text as it is if they are wrong. */
    private static String format(String s, Object... params) {
        try {
            return s == null ? "" : String.format(s, params);
        } catch (IllegalFormatException e) {
            return s;
        }
    }

    /**
     * A picocli table whose wrapping columns (WRAP, or SPAN in the last column) take whole words: a value that does
     * not fit is cut at the last space that fits, and each piece is handed to picocli, which then has nothing to
     * break.
     */
    static final class Table extends TextTable {
        private final ColorScheme scheme;

        Table(ColorScheme scheme, Column... columns) {
            super(scheme, columns);
            this.scheme = scheme;
        }

        @Override
        public Cell putValue(int row, int col, Text value) {
            Column[] columns = columns();
            Column column = columns[col];
            boolean wraps = column.overflow == Column.Overflow.WRAP
                    || (column.overflow == Column.Overflow.SPAN && col == columns.length - 1);
            if (!wraps || value == null) {
                return super.putValue(row, col, value);
            }
            String plain = value.plainString();
            int start = 0;
            int indent = column.indent; // picocli's own indent of the first line
            while (true) {
                int end = pieceEnd(plain, start, column.width - indent);
                Text piece = value.substring(start, end);
                if (indent > column.indent) {
                    piece = scheme.ansi().new Text(" ".repeat(indent - column.indent), scheme).concat(piece);
                }
                Cell cell = super.putValue(row, col, piece);
                start = end;
                while (start < plain.length() && plain.charAt(start) == ' ') {
                    start++;
                }
                if (start >= plain.length()) {
                    return cell;
                }
                addEmptyRow();
                row = cell.row + 1;
                indent = column.indent + indentWrappedLines;
            }
        }

        /**
         * Where the line that starts at {@code start} ends: all the rest if it fits in {@code room}, else at the last
         * space that lets it fit, else (a word longer than the whole line) where the line is full.
         */
        private static int pieceEnd(String s, int start, int room) {
            room = Math.max(room, 1);
            if (s.length() - start <= room) {
                return s.length();
            }
            int space = s.lastIndexOf(' ', start + room);
            while (space > start && s.charAt(space - 1) == ' ') {
                space--;
            }
            return space > start ? space : start + room;
        }
    }
}
