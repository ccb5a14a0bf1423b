package org.thinfs.core.diff;

/**
 * The thinfs incremental stream ({@code thinfs export-diff} / {@code import-diff}); all integers big-endian:
 * <pre>
 *   header  "THINDIFF" | u32 version (1) | u32 data block size in bytes | u64 target volume size in bytes (0 = unknown)
 *   record  'D' | u64 byte offset | u64 length | length bytes of data      (write these bytes)
 *           'Z' | u64 byte offset | u64 length                             (the range reads as zeros: discard it)
 *   end     'E' | 32-byte SHA-256 of every byte before the checksum (header, records and the 'E')
 * </pre>
 * Records are in ascending offset order and never overlap. A reader verifies the checksum before applying anything,
 * so a truncated or damaged stream changes nothing.
 */
public final class DiffFormat {
    static final byte[] MAGIC = {'T', 'H', 'I', 'N', 'D', 'I', 'F', 'F'};
    static final int VERSION = 1;
    static final int DATA = 'D';
    static final int ZERO = 'Z';
    static final int END = 'E';

    private DiffFormat() {
    }
}
