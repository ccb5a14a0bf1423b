package org.thinfs.core.tools;

import java.util.List;
import java.util.Optional;

/**
 * The logical content of a pool: what {@code thin_dump} prints. Two pools with equal dumps hold the same devices
 * and mappings however their metadata blocks are laid out.
 */
public record PoolDump(PoolHeader header, List<DeviceDump> devices) {
    public PoolDump {
        devices = List.copyOf(devices);
    }

    public Optional<DeviceDump> device(long devId) {
        return devices.stream().filter(d -> d.devId() == devId).findFirst();
    }

    /** Replays the dump as visitor events. */
    public void accept(MetadataVisitor v) {
        v.beginSuperblock(header);
        for (DeviceDump d : devices) {
            d.accept(v);
        }
        v.endSuperblock();
    }
}
