package org.thinfs.core.diff;

/**
 * The thinfs incremental stream ({@code thinfs export-diff} / {@code import-diff}); all integers big-endian:
 * <pre>
 *   header  "THINDIFF" | u32 version (2) | u32 data block size in bytes | u64 target volume size in bytes (0 = unknown)
 *           | u16 n | n bytes: the base's identity, UTF-8 (empty: a full stream, from an empty volume)
 *           | u16 n | n bytes: the target's identity, UTF-8 (empty: a live volume, which no later stream can
 *             start from)
 *   record  'D' | u64 byte offset | u64 length | length bytes of data      (write these bytes)
 *           'Z' | u64 byte offset | u64 length                             (the range reads as zeros: discard it)
 *   end     'E' | 32-byte SHA-256 of every byte before the checksum (header, records and the 'E')
 * </pre>
 * Records are in ascending offset order and never overlap. A reader verifies the checksum before applying anything,
 * so a truncated or damaged stream changes nothing.
 *
 * <p>An identity names one frozen image: a snapshot volume, as {@code POOL-UUID/DEVICE-ID@CREATION-TIME} (a
 * snapshot's creation time is unique in its pool, so a reused device id never matches). A volume that received a
 * stream remembers the target's identity until it is written, and an incremental stream applies only on top of a
 * volume whose remembered identity is the stream's base, as ZFS checks the from-snapshot's GUID. Version 1 streams
 * carry no identities and are applied as they are.
 */
public final class DiffFormat {
    static final byte[] MAGIC = {'T', 'H', 'I', 'N', 'D', 'I', 'F', 'F'};
    static final int VERSION = 2;
    static final int MAX_IDENTITY = 1024;
    static final int DATA = 'D';
    static final int ZERO = 'Z';
    static final int END = 'E';

    private DiffFormat() {
    }
}
