package org.thinfs.fs.model;

import org.thinfs.core.pool.ThinDevice;
import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.FsException.Code;

/**
 * A volume's attributes: mode, owner, times and size (truncate). Entries belong to the namespace, so every change is
 * made under its monitor; a shrink unmaps outside it (a discard of millions of mappings must not stop stat and ls).
 * Snapshot members are read-only: their attributes never change.
 */
final class VolumeAttributes {
    private final Namespace ns;
    private final long blockSize;

    VolumeAttributes(Namespace ns) {
        this.ns = ns;
        this.blockSize = ns.pool().dataBlockSize();
    }

    void chmod(String path, int mode) {
        synchronized (ns) {
            Entry e = changeableEntry(path, "mode");
            e.mode = mode & 07777;
            e.ctimeNs = Catalog.nowNs();
            ns.commits().mark();
        }
    }

    /** chown: -1 leaves that id as it is. Who may change what is the kernel's decision (default_permissions). */
    void chown(String path, long uid, long gid, long mountUid, long mountGid) {
        synchronized (ns) {
            Entry e = changeableEntry(path, "owner");
            if (uid != -1) {
                e.uid = uid;
            } else if (e.uid == -1) {
                e.uid = mountUid;                          // record who owned it before, now that the group changes
            }
            if (gid != -1) {
                e.gid = gid;
            } else if (e.gid == -1) {
                e.gid = mountGid;
            }
            e.ctimeNs = Catalog.nowNs();
            ns.commits().mark();
        }
    }

    /**
     * utimensat: {@link Times#OMIT} leaves a time as it is, {@link Times#NOW} sets the clock; ctime becomes now.
     * Returns false for a directory (their times are not kept: nothing to change, nothing to commit).
     */
    boolean setTimes(String path, long atimeNs, long mtimeNs) {
        synchronized (ns) {
            FsPath p = FsPath.parse(path);
            if (p.isDirectory()) {
                return false;
            }
            Entry e = changeableEntry(path, "times");
            long now = Catalog.nowNs();
            if (atimeNs != Times.OMIT) {
                e.atimeNs = atimeNs == Times.NOW ? now : atimeNs;
            }
            if (mtimeNs != Times.OMIT) {
                e.mtimeNs = mtimeNs == Times.NOW ? now : mtimeNs;
            }
            e.ctimeNs = now;
            ns.commits().mark();
            return true;
        }
    }

    /** The entry of a volume or lost device whose attributes may change: a snapshot's members are read-only. */
    private Entry changeableEntry(String path, String what) {
        FsPath p = FsPath.parse(path);
        Entry e = ns.entry(p);
        ns.requireNames();
        if (p.kind() == FsPath.Kind.SNAPSHOT_VOLUME) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only: their " + what + " cannot change");
        }
        return e;
    }

    /** Sets a volume's virtual size; shrinking unmaps (and zeroes) everything past the new end. */
    void truncate(String path, long size) {
        Entry e;
        ThinDevice dev;
        synchronized (ns) {
            FsPath p = FsPath.parse(path);
            e = ns.entry(p);
            if (p.kind() == FsPath.Kind.SNAPSHOT_VOLUME) {
                throw new FsException(Code.EROFS, "snapshot volumes are read-only");
            }
            dev = ns.pool().device(e.id);
        }
        truncate(e, dev, size);
    }

    /** ftruncate through an open handle. */
    void truncate(Handle h, long size) {
        if (h.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        truncate(h.entry, h.device, size);
    }

    private void truncate(Entry e, ThinDevice dev, long size) {
        if (size < 0) {
            throw new FsException(Code.EINVAL, "negative size");
        }
        boolean grew;
        synchronized (ns) {
            grew = e.growTo(size);
            if (grew) {
                e.dataChanged(Catalog.nowNs());
                ns.commits().mark();
            }
        }
        if (!grew) {
            // Up to the end of the old last block, not the old size: a block that held the old end lies wholly
            // past the new one and must be unmapped too, not left mapped (and counted as data) beyond the end.
            ns.limitBase(e, size);               // a shrunk volume shows no more of its base image past the end
            long oldEnd = Math.max(e.size, size);
            long blockEnd = oldEnd > Long.MAX_VALUE - blockSize ? oldEnd
                    : (oldEnd + blockSize - 1) / blockSize * blockSize;
            dev.discard(size, blockEnd - size);
            synchronized (ns) {
                e.shrinkTo(size);
                e.dataChanged(Catalog.nowNs());
                ns.commits().mark();
            }
        }
    }
}
