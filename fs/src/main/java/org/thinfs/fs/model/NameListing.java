package org.thinfs.fs.model;

import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.Catalog.SnapshotSet;
import org.thinfs.fs.model.FsException.Code;
import org.thinfs.fs.model.PoolFileSystem.Attr;

import java.util.ArrayList;
import java.util.List;

/**
 * What stat and readdir see of a pool's names: the attributes of every kind of path and the listing of every
 * directory, read under the namespace monitor so no change is half seen. Changes nothing. A foreign pool (no
 * catalog) shows its devices at the top level and has no {@code snapshots} or {@code lost+found}.
 */
final class NameListing {
    private final Namespace names;
    private final ThinPool pool;
    private final long blockSize;
    private final boolean foreign;

    NameListing(Namespace names, ThinPool pool, boolean foreign) {
        this.names = names;
        this.pool = pool;
        this.blockSize = pool.dataBlockSize();
        this.foreign = foreign;
    }

    Attr getattr(String path) {
        FsPath p = FsPath.parse(path);
        synchronized (names) {
            Catalog.Document doc = names.doc();
            switch (p.kind()) {
                case ROOT:
                    return dir(0755, 2 + (foreign ? 0 : 2));
                case SNAPSHOTS_DIR:
                    requireCatalog(p);
                    return dir(0755, 2 + doc.snapshots.size());
                case LOST_FOUND_DIR:
                    requireCatalog(p);
                    return dir(0755, 2);
                case SNAPSHOT_SET:
                    SnapshotSet s = names.set(p.set());
                    long created = s.created * 1_000_000;
                    return new Attr(true, 0, 0, 0555, -1, -1, created, created, created, 2);
                default:
                    return attrOf(names.entry(p), p.kind() == FsPath.Kind.SNAPSHOT_VOLUME, 1);
            }
        }
    }

    /** Attributes of an open volume; one that was removed while open has no link left. */
    Attr getattr(Handle h) {
        synchronized (names) {
            boolean orphan = names.doc().orphans.contains(h.device.id());
            return attrOf(h.entry, h.readOnly, orphan ? 0 : 1);
        }
    }

    List<String> list(String path) {
        FsPath p = FsPath.parse(path);
        List<String> out = new ArrayList<>();
        synchronized (names) {
            Catalog.Document doc = names.doc();
            switch (p.kind()) {
                case ROOT -> {
                    if (!foreign) {
                        out.add(FsPath.SNAPSHOTS);
                        out.add(FsPath.LOST_FOUND);
                    }
                    out.addAll(doc.volumes.keySet());
                }
                case SNAPSHOTS_DIR -> out.addAll(doc.snapshots.keySet());
                case LOST_FOUND_DIR -> names.lostIds().forEach(id -> out.add("dev-" + id));
                case SNAPSHOT_SET -> out.addAll(names.set(p.set()).volumes.keySet());
                case VOLUME, SNAPSHOT_VOLUME, LOST_DEVICE -> {
                    names.entry(p);
                    throw new FsException(Code.ENOTDIR, path + " is a volume");
                }
                default -> throw new FsException(Code.ENOENT, path);
            }
        }
        return out;
    }

    private Attr attrOf(Entry e, boolean snapshotMember, int nlink) {
        long used = pool.maps().details(e.id).mappedBlocks() * blockSize;
        return new Attr(false, e.size, used, snapshotMember ? e.mode & 0444 : e.mode, e.uid, e.gid, e.atimeNs,
                e.mtimeNs, e.ctimeNs, nlink);
    }

    private static Attr dir(int mode, int nlink) {
        long now = Catalog.nowNs();
        return new Attr(true, 0, 0, mode, -1, -1, now, now, now, nlink);
    }

    private void requireCatalog(FsPath p) {
        if (foreign) {
            throw new FsException(Code.ENOENT, "a foreign pool has no " + p.kind());
        }
    }
}
