package org.thinfs.core.pool;

import java.util.Locale;

/**
 * How a pool meets a filling space, as LVM's {@code thin_pool_autoextend_threshold}/{@code _percent} and dm-thin's
 * {@code queue_if_no_space}/{@code error_if_no_space} do.
 *
 * @param threshold percent of a space in use at which it is grown, 50 to 100; 100 turns autoextend off (as LVM)
 * @param percent   how much to grow by, in percent of the current size, 1 to 1000
 * @param maxBytes  the data space is never grown past this many bytes; 0 means no limit but the host's free space
 * @param whenFull  what a write that finds no free block gets once autoextend can do nothing more
 */
public record SpacePolicy(int threshold, int percent, long maxBytes, WhenFull whenFull) {
    /** Autoextend off; writes to a full pool fail at once (what thinfs always did). */
    public static final SpacePolicy DEFAULT = new SpacePolicy(100, 20, 0, WhenFull.ERROR);

    /** The names {@code thinfs set} and {@code create} take, in the order status shows them. */
    public static final String[] NAMES = {"autoextend-threshold", "autoextend-percent", "autoextend-max", "when-full"};

    /** What a write to a full pool gets. */
    public enum WhenFull {
        /** ENOSPC at once. */
        ERROR,
        /** Held until space appears (autoextend, a resize, a delete), at most 60 s, then ENOSPC. */
        WAIT;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static WhenFull parse(String s) {
            for (WhenFull w : values()) {
                if (w.wire().equals(s)) {
                    return w;
                }
            }
            throw new IllegalArgumentException("when-full must be 'error' or 'wait', not '" + s + "'");
        }
    }

    public SpacePolicy {
        if (threshold < 50 || threshold > 100) {
            throw new IllegalArgumentException("autoextend-threshold must be a percentage from 50 to 100 (100 turns "
                    + "autoextend off), not " + threshold);
        }
        if (percent < 1 || percent > 1000) {
            throw new IllegalArgumentException("autoextend-percent must be from 1 to 1000, not " + percent);
        }
        if (maxBytes < 0) {
            throw new IllegalArgumentException("autoextend-max must not be negative");
        }
        if (whenFull == null) {
            throw new IllegalArgumentException("when-full must be 'error' or 'wait'");
        }
    }

    public boolean autoextends() {
        return threshold < 100;
    }

    /**
     * This policy with one setting changed. {@code value} is already a number of bytes for autoextend-max (the
     * caller parses sizes); throws IllegalArgumentException with one sentence for a bad name or value.
     */
    public SpacePolicy with(String name, String value) {
        try {
            return switch (name) {
                case "autoextend-threshold" -> new SpacePolicy(Integer.parseInt(value.replace("%", "")), percent,
                        maxBytes, whenFull);
                case "autoextend-percent" -> new SpacePolicy(threshold, Integer.parseInt(value.replace("%", "")),
                        maxBytes, whenFull);
                case "autoextend-max" -> new SpacePolicy(threshold, percent, Long.parseLong(value), whenFull);
                case "when-full" -> new SpacePolicy(threshold, percent, maxBytes, WhenFull.parse(value));
                default -> throw new IllegalArgumentException("unknown setting '" + name + "'; the settings are "
                        + String.join(", ", NAMES));
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, not '" + value + "'");
        }
    }
}
