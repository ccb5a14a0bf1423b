package org.thinfs.fs.model;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A retention policy as snapper's timeline cleanup and sanoid state it: keep the {@code last} newest sets, and for
 * each period kind (hour, day, ISO week from Monday, month, year, in the given time zone) the newest set of each of the N most
 * recent periods that have a set. A set kept by any rule is kept; the rest are pruned. Pure: the caller brings the
 * sets and their creation times, and leaves held sets out of what it deletes.
 */
public record Retention(int last, int hourly, int daily, int weekly, int monthly, int yearly) {
    public static final List<String> RULES = List.of("last", "hourly", "daily", "weekly", "monthly", "yearly");

    public Retention {
        for (int n : new int[]{last, hourly, daily, weekly, monthly, yearly}) {
            if (n < 0) {
                throw new IllegalArgumentException("a keep count cannot be negative");
            }
        }
    }

    /** Parses {@code last=N,hourly=N,...} (any subset; the rest are 0). */
    public static Retention parse(String spec) {
        Map<String, Integer> n = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            String[] kv = part.trim().split("=", 2);
            if (kv.length != 2 || !RULES.contains(kv[0])) {
                throw new IllegalArgumentException("--keep takes RULE=N,... with RULE one of " + String.join(", ",
                        RULES) + ", not '" + part.trim() + "'");
            }
            try {
                int v = Integer.parseInt(kv[1]);
                if (v < 0) {
                    throw new NumberFormatException();
                }
                if (n.put(kv[0], v) != null) {
                    throw new IllegalArgumentException("--keep names " + kv[0] + " twice");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--keep " + kv[0] + " must be a count (0 or more), not '" + kv[1]
                        + "'");
            }
        }
        return new Retention(n.getOrDefault("last", 0), n.getOrDefault("hourly", 0), n.getOrDefault("daily", 0),
                n.getOrDefault("weekly", 0), n.getOrDefault("monthly", 0), n.getOrDefault("yearly", 0));
    }

    /** The names among {@code created} (name → creation time in ms) that no rule keeps, oldest first. */
    public List<String> prune(Map<String, Long> created, ZoneId zone) {
        List<Map.Entry<String, Long>> newest = new ArrayList<>(created.entrySet());
        newest.sort(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                .thenComparing(Map.Entry.comparingByKey()));
        Set<String> keep = new HashSet<>();
        for (int i = 0; i < Math.min(last, newest.size()); i++) {
            keep.add(newest.get(i).getKey());
        }
        keepNewestPerPeriod(newest, zone, ChronoUnit.HOURS, hourly, keep);
        keepNewestPerPeriod(newest, zone, ChronoUnit.DAYS, daily, keep);
        keepNewestPerPeriod(newest, zone, ChronoUnit.WEEKS, weekly, keep);
        keepNewestPerPeriod(newest, zone, ChronoUnit.MONTHS, monthly, keep);
        keepNewestPerPeriod(newest, zone, ChronoUnit.YEARS, yearly, keep);
        List<String> pruned = new ArrayList<>();
        for (int i = newest.size() - 1; i >= 0; i--) {
            if (!keep.contains(newest.get(i).getKey())) {
                pruned.add(newest.get(i).getKey());
            }
        }
        return pruned;
    }

    private static void keepNewestPerPeriod(List<Map.Entry<String, Long>> newest, ZoneId zone, ChronoUnit unit,
                                            int periods, Set<String> keep) {
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, Long> s : newest) {
            if (seen.size() == periods && !seen.contains(period(s.getValue(), zone, unit))) {
                return;
            }
            if (seen.add(period(s.getValue(), zone, unit))) {
                keep.add(s.getKey());                  // the first seen is the newest of its period
            }
        }
    }

    /** The period a time falls in, as a comparable label. */
    static String period(long millis, ZoneId zone, ChronoUnit unit) {
        ZonedDateTime t = Instant.ofEpochMilli(millis).atZone(zone);
        return switch (unit) {
            case HOURS -> t.truncatedTo(ChronoUnit.HOURS).toString();
            case DAYS -> t.toLocalDate().toString();
            case WEEKS -> String.format(Locale.ROOT, "%d-W%02d", t.get(IsoFields.WEEK_BASED_YEAR),
                    t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            case MONTHS -> t.getYear() + "-" + t.getMonthValue();
            case YEARS -> Integer.toString(t.getYear());
            default -> throw new IllegalArgumentException(unit.toString());
        };
    }
}
