package org.thinfs.core.tools;

import org.thinfs.core.DamagedInputException;

/** Dump input (XML) that is malformed or does not follow thin_dump's schema; names the line and column. */
public final class DumpFormatException extends DamagedInputException {
    private final int line;
    private final int column;

    public DumpFormatException(String source, int line, int column, String message) {
        super(source + ":" + line + ":" + column + ": " + message);
        this.line = line;
        this.column = column;
    }

    public DumpFormatException(String source, int line, int column, String message, Throwable cause) {
        super(source + ":" + line + ":" + column + ": " + message, cause);
        this.line = line;
        this.column = column;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }
}
