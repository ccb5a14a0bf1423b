package org.thinfs.fs.model;

/**
 * What the catalog keeps of a volume's base image (external origin), so that a changed or missing image is noticed
 * before a byte of it is read: the path, the size, and for a regular file its inode and modification time (for a
 * block device its major:minor). {@code limit} is how much of the image the volume shows (it shrinks with the
 * volume, see core's DeviceBase); {@code discard} is "origin" (a discard reads the image again, as dm-thin) or
 * "zero". Never changed in place: snapshots and clones share the object, so a change makes a new one.
 */
public final class BaseRecord {
    public String path;
    public long size;
    /** Regular files: inode number and mtime in nanoseconds; -1 for a block device. */
    public long inode = -1;
    public long mtimeNs = -1;
    /** Block devices: the device number (major:minor packed as stat's st_rdev); -1 for a file. */
    public long rdev = -1;
    public long limit;
    public String discard = "origin";

    public BaseRecord() {
    }

    BaseRecord limitedTo(long newSize) {
        if (newSize >= limit) {
            return this;
        }
        BaseRecord r = new BaseRecord();
        r.path = path;
        r.size = size;
        r.inode = inode;
        r.mtimeNs = mtimeNs;
        r.rdev = rdev;
        r.limit = newSize;
        r.discard = discard;
        return r;
    }

    boolean discardZeros() {
        return "zero".equals(discard);
    }
}
