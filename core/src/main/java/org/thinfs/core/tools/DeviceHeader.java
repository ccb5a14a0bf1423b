package org.thinfs.core.tools;

/**
 * One device's details as a dump carries them ({@code <device>} attributes). {@code mappedBlocks} is what the
 * details record says, which a damaged pool may disagree with; {@link DeviceDump#mappings()} holds the truth.
 */
public record DeviceHeader(long devId, long mappedBlocks, long transaction, long creationTime, long snapTime) {
}
