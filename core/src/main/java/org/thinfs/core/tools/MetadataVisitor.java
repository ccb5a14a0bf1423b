package org.thinfs.core.tools;

/**
 * The logical content of a pool as a stream of events, in this order:
 * {@code beginSuperblock (beginDevice mapping* endDevice)* endSuperblock}. Devices come in ascending id and a
 * device's mappings in ascending origin when the source is metadata; XML input may be in any order.
 *
 * <p>Readers (metadata, XML) produce these events; writers (XML, JSON, the dump IR, restore) consume them, so any
 * reader can feed any writer.
 */
public interface MetadataVisitor {
    void beginSuperblock(PoolHeader header);

    void endSuperblock();

    void beginDevice(DeviceHeader header);

    void endDevice();

    /** One mapping; {@code time} holds the 24-bit mapping time. */
    void mapping(long origin, long data, int time);

    /** {@code length} consecutive mappings with consecutive data blocks and one time. */
    default void rangeMapping(long originBegin, long dataBegin, long length, int time) {
        for (long i = 0; i < length; i++) {
            mapping(originBegin + i, dataBegin + i, time);
        }
    }
}
