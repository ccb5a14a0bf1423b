package org.thinfs.core.tools;

/**
 * One device as {@code thin_ls} reports it. {@code exclusiveBlocks} counts the device's mappings whose data block no
 * other mapping (of any device, or of this one) uses; {@code sharedBlocks} is {@code mappedBlocks} (from the
 * details) minus that, as thin_ls computes it.
 */
public record LsRow(long devId, long mappedBlocks, long exclusiveBlocks, long sharedBlocks, long transaction,
                    long creationTime, long snapTime) {
}
