package org.thinfs.fs.model;

import java.time.Duration;
import java.util.List;

/**
 * A pool's snapshot schedule, kept with its space policy in {@code POOL/settings.json}: take an {@code auto-} set
 * every {@code every} (zero: never), prune the automatic sets by {@code keep} (a Retention spec; empty: keep all),
 * and when data or metadata use passes {@code pruneAt} percent (0: never) remove the oldest unheld automatic set, one
 * at a time, before the pool's when-full policy is reached.
 */
public record SnapshotSchedule(Duration every, String keep, int pruneAt) {
    public static final SnapshotSchedule NONE = new SnapshotSchedule(Duration.ZERO, "", 0);
    public static final List<String> NAMES = List.of("snapshot-every", "keep", "prune-at");
    /** The prefix of the sets the schedule takes, and the only sets it ever removes. */
    public static final String PREFIX = "auto-";

    public SnapshotSchedule {
        if (every.isNegative()) {
            throw new IllegalArgumentException("snapshot-every cannot be negative");
        }
        if (!keep.isEmpty()) {
            Retention.parse(keep);                         // refused here, with its sentence, not at the first prune
        }
        if (pruneAt < 0 || pruneAt > 99) {
            throw new IllegalArgumentException("prune-at is a percentage from 1 to 99 (0 = off), not " + pruneAt);
        }
    }

    /** This schedule with setting {@code name} (one of {@link #NAMES}) set from its text. */
    public SnapshotSchedule with(String name, String value) {
        return switch (name) {
            case "snapshot-every" -> new SnapshotSchedule(parseDuration(value), keep, pruneAt);
            case "keep" -> new SnapshotSchedule(every, value.equals("all") ? "" : value, pruneAt);
            case "prune-at" -> {
                try {
                    yield new SnapshotSchedule(every, keep, Integer.parseInt(value.replace("%", "")));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("prune-at is a percentage, not '" + value + "'");
                }
            }
            default -> throw new IllegalArgumentException("unknown setting " + name);
        };
    }

    /** {@code 0}/{@code off}, or a number with s, m, h or d. */
    static Duration parseDuration(String v) {
        if (v.equals("0") || v.equals("off")) {
            return Duration.ZERO;
        }
        try {
            long n = Long.parseLong(v.substring(0, v.length() - 1));
            Duration d = switch (v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> null;
            };
            if (d != null && n > 0) {
                return d;
            }
        } catch (NumberFormatException | StringIndexOutOfBoundsException ignored) {
            // the sentence below
        }
        throw new IllegalArgumentException("snapshot-every is a duration like 15m, 1h or 1d (or off), not '" + v + "'");
    }

    /** The duration as {@code thinfs set} takes it back. */
    public String everyText() {
        long s = every.toSeconds();
        if (s == 0) {
            return "off";
        }
        return s % 86400 == 0 ? s / 86400 + "d" : s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }
}
