package org.thinfs.core.tools;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What {@link MetadataChecker} found. Clean means no {@link Problem.Severity#ERROR}; warnings do not make a check
 * fail. At most {@value #MAX_KEPT} problems are kept (badly damaged metadata can produce millions); the rest are
 * only counted, so {@link #errorCount()} and {@link #warningCount()} stay exact.
 */
public final class CheckReport {
    static final int MAX_KEPT = 10_000;

    private final List<Problem> problems = new ArrayList<>();
    private long errors;
    private long warnings;

    void add(Problem p) {
        if (p.severity() == Problem.Severity.ERROR) {
            errors++;
        } else {
            warnings++;
        }
        if (problems.size() < MAX_KEPT) {
            problems.add(p);
        }
    }

    public boolean isClean() {
        return errors == 0;
    }

    public long errorCount() {
        return errors;
    }

    public long warningCount() {
        return warnings;
    }

    /** The problems kept, in the order found. */
    public List<Problem> problems() {
        return Collections.unmodifiableList(problems);
    }

    public List<Problem> errors() {
        return problems.stream().filter(p -> p.severity() == Problem.Severity.ERROR).toList();
    }

    /** Whether some kept problem's message contains {@code text}. */
    public boolean mentions(String text) {
        return problems.stream().anyMatch(p -> p.message().contains(text));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Problem p : problems) {
            sb.append(p).append('\n');
        }
        long dropped = errors + warnings - problems.size();
        if (dropped > 0) {
            sb.append("... and ").append(dropped).append(" more problems\n");
        }
        sb.append(errors).append(" errors, ").append(warnings).append(" warnings\n");
        return sb.toString();
    }
}
