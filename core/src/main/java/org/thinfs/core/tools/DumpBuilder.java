package org.thinfs.core.tools;

import java.util.ArrayList;
import java.util.List;

/** A {@link MetadataVisitor} that collects the events into a {@link PoolDump}. Use one builder per dump. */
public final class DumpBuilder implements MetadataVisitor {
    private PoolHeader header;
    private final List<DeviceDump> devices = new ArrayList<>();
    private DeviceHeader device;
    private MappingList.Builder mappings;
    private PoolDump result;

    @Override
    public void beginSuperblock(PoolHeader h) {
        if (header != null) {
            throw new IllegalStateException("a second superblock in one dump");
        }
        header = h;
    }

    @Override
    public void endSuperblock() {
        if (header == null || device != null) {
            throw new IllegalStateException("superblock end without a matching begin");
        }
        result = new PoolDump(header, devices);
    }

    @Override
    public void beginDevice(DeviceHeader h) {
        if (header == null || device != null) {
            throw new IllegalStateException("device " + h.devId() + " begins outside the superblock");
        }
        device = h;
        mappings = new MappingList.Builder();
    }

    @Override
    public void endDevice() {
        if (device == null) {
            throw new IllegalStateException("device end without a begin");
        }
        devices.add(new DeviceDump(device, mappings.build()));
        device = null;
        mappings = null;
    }

    @Override
    public void mapping(long origin, long data, int time) {
        if (device == null) {
            throw new IllegalStateException("mapping outside a device");
        }
        mappings.add(origin, data, time);
    }

    /** The finished dump; valid after {@link #endSuperblock()}. */
    public PoolDump build() {
        if (result == null) {
            throw new IllegalStateException("the dump is not complete");
        }
        return result;
    }
}
