package org.thinfs.core.thin;

import org.thinfs.core.format.DeviceDetails;

/**
 * What a restore writes into fresh metadata ({@code thinfs restore}, repair): the header a dump carries, then each
 * device with its mappings. Got from {@link ThinMetadata#restoreSink()}; the caller commits when done.
 */
public interface RestoreSink {
    /**
     * The superblock fields a dump carries. The uuid is stored as its first 16 bytes; flags, time and transaction id
     * are committed with the next commit.
     */
    void header(byte[] uuid, int version, int flags, int time, long transactionId);

    /**
     * Adds device {@code id} with a tree of its own (as thin_restore does: nothing shared, so each mapping holds one
     * reference on its data block) and the given details, whose mapped_blocks is replaced by the number of mappings.
     */
    void device(long id, DeviceDetails details, MappingSource mappings);

    /** Supplies a restored device's mappings in ascending virtual block order. */
    interface MappingSource {
        void forEach(ThinMetadata.MappingVisitor visitor);
    }
}
