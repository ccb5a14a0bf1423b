package org.thinfs.core.tools;

/** One thin device of a dump: its details and its mappings. */
public record DeviceDump(DeviceHeader header, MappingList mappings) {
    public long devId() {
        return header.devId();
    }

    public void accept(MetadataVisitor v) {
        v.beginDevice(header);
        mappings.accept(v);
        v.endDevice();
    }
}
