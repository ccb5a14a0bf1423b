package org.thinfs.core.format;

import java.nio.ByteBuffer;

/**
 * A thin device's details (24 bytes). {@code transactionId} is the pool's id when the device was created;
 * {@code snapshottedTime} is the pool time of the latest snapshot taken of this device: a mapping stamped
 * with an earlier time may be shared and must be copied before it is written.
 */
public record DeviceDetails(long mappedBlocks, long transactionId, int creationTime, int snapshottedTime) {
    public static final int SIZE = 24;

    public static DeviceDetails decode(ByteBuffer buf, int offset) {
        return new DeviceDetails(buf.getLong(offset), buf.getLong(offset + 8), buf.getInt(offset + 16),
                buf.getInt(offset + 20));
    }

    public void encode(ByteBuffer buf, int offset) {
        buf.putLong(offset, mappedBlocks);
        buf.putLong(offset + 8, transactionId);
        buf.putInt(offset + 16, creationTime);
        buf.putInt(offset + 20, snapshottedTime);
    }

    public DeviceDetails withMappedBlocks(long n) {
        return new DeviceDetails(n, transactionId, creationTime, snapshottedTime);
    }

    public DeviceDetails withSnapshottedTime(int t) {
        return new DeviceDetails(mappedBlocks, transactionId, creationTime, t);
    }
}
