package org.thinfs.core.tools;

/** One mapping of a thin device: virtual block {@code origin} → data block {@code data}, stamped with {@code time}. */
public record Mapping(long origin, long data, int time) {
}
