package org.thinfs.fs.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.format.Layout;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.Catalog.SnapshotSet;
import org.thinfs.fs.model.FsException.Code;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * File semantics of a pool, without FUSE: top-level files are thin volumes, {@code snapshots/SET/NAME} are
 * read-only snapshot volumes, {@code lost+found/dev-ID} are devices the metadata holds but the catalog does not name.
 *
 * <p>Locking: the namespace (the catalog document) is guarded by {@code this}. Data I/O goes straight to
 * {@link ThinDevice}, which is thread-safe, and never takes {@code this}: a volume's size has its own lock
 * ({@link Entry#extendTo}) and {@link #dirty} is volatile. So a commit, which holds {@code this} through the catalog
 * write and the pool commit (namespace changes stay atomic with it), stalls data I/O only for the pool's own
 * quiescent section, not for its fsyncs. Commit waits in the pool for in-flight I/O; I/O never waits for
 * {@code this}. So no lock cycle exists.
 */
public final class PoolFileSystem implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(PoolFileSystem.class);

    private final ThinPool pool;
    /** Where the catalog lives; null for a foreign pool (kernel or LVM), whose names are not ours to store. */
    private final Path catalogDir;
    private final long blockSize;
    /** Guarded by this. */
    private final Catalog.Document doc;
    /** Devices the metadata holds that the catalog does not name. Guarded by this. */
    private final TreeMap<Long, Entry> lost = new TreeMap<>();
    /**
     * Something changed since the last commit started. Set after a change is made; cleared by a commit before it
     * writes anything, so a change racing with a commit is either in it or marks the next one.
     */
    private volatile boolean dirty;

    /** Attributes of a path. */
    public record Attr(boolean directory, long size, long bytesUsed, int mode, long mtimeMillis, int nlink) {
    }

    /** An open volume. */
    public static final class Handle {
        final ThinDevice device;
        final Entry entry;
        final boolean readOnly;

        Handle(ThinDevice device, Entry entry, boolean readOnly) {
            this.device = device;
            this.entry = entry;
            this.readOnly = readOnly;
        }

        public boolean readOnly() {
            return readOnly;
        }
    }

    /** Space of the pool for statfs, in bytes. */
    public record Space(long total, long free, long blockSize) {
    }

    private PoolFileSystem(ThinPool pool, Path catalogDir, Catalog.Document doc) {
        this.pool = pool;
        this.catalogDir = catalogDir;
        this.blockSize = pool.dataBlockSize();
        this.doc = doc;
    }

    /**
     * Opens the file system of a pool directory ({@code catalogDir} non-null) or of a foreign pool (null: every
     * device shows as a top-level {@code dev-ID} and names cannot change).
     */
    public static PoolFileSystem open(ThinPool pool, Path catalogDir) throws IOException {
        Catalog.Document doc = catalogDir == null ? new Catalog.Document()
                : Catalog.read(catalogDir, pool.transactionId());
        PoolFileSystem fs = new PoolFileSystem(pool, catalogDir, doc);
        fs.reconcile();
        return fs;
    }

    /** Drops catalog entries whose device is gone; lists devices nobody names as lost (or, foreign, as volumes). */
    private synchronized void reconcile() {
        SortedSet<Long> ids = pool.deviceIds();
        java.util.Set<Long> named = new java.util.HashSet<>();
        doc.volumes.entrySet().removeIf(e -> dropIfMissing(ids, e.getKey(), e.getValue()));
        for (SnapshotSet s : doc.snapshots.values()) {
            s.volumes.entrySet().removeIf(e -> dropIfMissing(ids, e.getKey(), e.getValue()));
        }
        doc.volumes.values().forEach(e -> named.add(e.id));
        doc.snapshots.values().forEach(s -> s.volumes.values().forEach(e -> named.add(e.id)));
        for (long id : ids) {
            if (!named.contains(id)) {
                Entry e = new Entry(id, extentOf(id), 0644, System.currentTimeMillis());
                if (catalogDir == null) {
                    doc.volumes.put("dev-" + id, e);
                } else {
                    lost.put(id, e);
                    LOG.info("thin device {} is not named in the catalog: it is in lost+found/dev-{}", id, id);
                }
            }
        }
    }

    private boolean dropIfMissing(SortedSet<Long> ids, String name, Entry e) {
        if (!ids.contains(e.id)) {
            LOG.warn("catalog names '{}' as thin device {}, which the metadata does not hold: dropped", name, e.id);
            return true;
        }
        return false;
    }

    /**
     * A device without a recorded size ends after its last mapped block. Found down the tree's right edge: a walk
     * of every mapping would pull a 10 M-mapping device's whole tree through the metadata cache in one operation.
     */
    private long extentOf(long id) {
        return (pool.lastMappedBlock(id) + 1) * blockSize;
    }

    // ---------------------------------------------------------------- lookups

    public synchronized Attr getattr(String path) {
        FsPath p = FsPath.parse(path);
        switch (p.kind()) {
            case ROOT:
                return dir(0755, 2 + (catalogDir == null ? 0 : 2));
            case SNAPSHOTS_DIR:
                requireCatalog(p);
                return dir(0755, 2 + doc.snapshots.size());
            case LOST_FOUND_DIR:
                requireCatalog(p);
                return dir(0755, 2);
            case SNAPSHOT_SET:
                SnapshotSet s = set(p.set());
                return new Attr(true, 0, 0, 0555, s.created, 2);
            default:
                Entry e = entry(p);
                long used = pool.details(e.id).mappedBlocks() * blockSize;
                return new Attr(false, e.size, used, p.kind() == FsPath.Kind.SNAPSHOT_VOLUME ? e.mode & 0444 : e.mode,
                        e.mtime, 1);
        }
    }

    private static Attr dir(int mode, int nlink) {
        return new Attr(true, 0, 0, mode, System.currentTimeMillis(), nlink);
    }

    public synchronized List<String> list(String path) {
        FsPath p = FsPath.parse(path);
        List<String> out = new ArrayList<>();
        switch (p.kind()) {
            case ROOT -> {
                if (catalogDir != null) {
                    out.add(FsPath.SNAPSHOTS);
                    out.add(FsPath.LOST_FOUND);
                }
                out.addAll(doc.volumes.keySet());
            }
            case SNAPSHOTS_DIR -> out.addAll(doc.snapshots.keySet());
            case LOST_FOUND_DIR -> lost.keySet().forEach(id -> out.add("dev-" + id));
            case SNAPSHOT_SET -> out.addAll(set(p.set()).volumes.keySet());
            case VOLUME, SNAPSHOT_VOLUME, LOST_DEVICE -> {
                entry(p);
                throw new FsException(Code.ENOTDIR, path + " is a volume");
            }
            default -> throw new FsException(Code.ENOENT, path);
        }
        return out;
    }

    private SnapshotSet set(String name) {
        SnapshotSet s = doc.snapshots.get(name);
        if (s == null) {
            throw new FsException(Code.ENOENT, "no snapshot set " + name);
        }
        return s;
    }

    /** The catalog entry of a file path. */
    private Entry entry(FsPath p) {
        Entry e = switch (p.kind()) {
            case VOLUME -> doc.volumes.get(p.name());
            case SNAPSHOT_VOLUME -> set(p.set()).volumes.get(p.name());
            case LOST_DEVICE -> catalogDir == null ? null : lost.get(p.lostId());
            case ROOT, SNAPSHOTS_DIR, LOST_FOUND_DIR, SNAPSHOT_SET -> throw new FsException(Code.EISDIR,
                    "a directory");
            default -> null;
        };
        if (e == null) {
            throw new FsException(Code.ENOENT, "no such volume");
        }
        return e;
    }

    private void requireCatalog(FsPath p) {
        if (catalogDir == null) {
            throw new FsException(Code.ENOENT, "a foreign pool has no " + p.kind());
        }
    }

    private void requireNames() {
        if (catalogDir == null) {
            throw new FsException(Code.EPERM, "a foreign pool (made by the kernel or LVM) keeps its device ids: "
                    + "names and snapshots cannot change here");
        }
    }

    // ---------------------------------------------------------------- namespace changes

    /** Creates an empty volume (size 0) at a top-level name. */
    public void createVolume(String path, int mode) {
        applyCreateVolume(path, mode);
        commitChange();
    }

    private synchronized void applyCreateVolume(String path, int mode) {
        requireNames();
        FsPath p = FsPath.parse(path);
        if (p.kind() != FsPath.Kind.VOLUME) {
            throw new FsException(p.kind() == FsPath.Kind.INVALID ? Code.ENOENT : Code.EPERM,
                    "volumes are created at the top level only");
        }
        Names.check(p.name());
        if (doc.volumes.containsKey(p.name())) {
            throw new FsException(Code.EEXIST, p.name() + " exists");
        }
        long id = freeId();
        pool.createThin(id);
        doc.volumes.put(p.name(), new Entry(id, 0, mode & 07777, System.currentTimeMillis()));
        dirty = true;
    }

    /** Takes {@code snapshots/SET}: a snapshot of every volume, all in one metadata step. */
    public void mkdir(String path) {
        applyMkdir(path);
        commitChange();
    }

    private synchronized void applyMkdir(String path) {
        requireNames();
        FsPath p = FsPath.parse(path);
        if (p.kind() != FsPath.Kind.SNAPSHOT_SET) {
            throw new FsException(p.kind() == FsPath.Kind.VOLUME && doc.volumes.containsKey(p.name())
                    ? Code.EEXIST : Code.EPERM, "only snapshots/NAME directories can be made");
        }
        applySnapshotSet(p.set(), null);
    }

    /**
     * {@code thinfs snapshot POOL NAME [VOLUME...]}: the snapshot set {@code snapshots/NAME} of the named volumes
     * (all when {@code volumes} is empty), in one metadata step as {@link #mkdir} takes it, committed on return.
     */
    public void snapshot(String set, List<String> volumes) {
        applySnapshotSet(set, volumes.isEmpty() ? null : volumes);
        commitChange();
    }

    /** Takes set {@code name} of {@code only} (null: every volume). */
    private synchronized void applySnapshotSet(String name, List<String> only) {
        requireNames();
        Names.check(name);
        if (doc.snapshots.containsKey(name)) {
            throw new FsException(Code.EEXIST, "snapshot set " + name + " exists");
        }
        if (only != null) {
            for (String v : only) {
                if (!doc.volumes.containsKey(v)) {
                    throw new FsException(Code.ENOENT, "no volume named " + v);
                }
            }
        }
        SnapshotSet set = new SnapshotSet();
        set.created = System.currentTimeMillis();
        List<long[]> pairs = new ArrayList<>();
        long next = freeId();
        for (Map.Entry<String, Entry> v : doc.volumes.entrySet()) {
            if (only != null && !only.contains(v.getKey())) {
                continue;
            }
            while (pool.deviceIds().contains(next) || isNamed(next)) {
                next++;
            }
            pairs.add(new long[]{next, v.getValue().id});
            set.volumes.put(v.getKey(), new Entry(next, v.getValue().size, v.getValue().mode,
                    v.getValue().mtime));
            next++;
        }
        if (!pairs.isEmpty()) {
            pool.createSnapshots(pairs);
        }
        doc.snapshots.put(name, set);
        dirty = true;
    }

    public void rmdir(String path) {
        applyRmdir(path);
        commitChange();
    }

    private synchronized void applyRmdir(String path) {
        FsPath p = FsPath.parse(path);
        if (p.kind() != FsPath.Kind.SNAPSHOT_SET) {
            throw new FsException(p.isDirectory() ? Code.EPERM : Code.ENOTDIR, "cannot remove " + path);
        }
        SnapshotSet s = set(p.set());
        if (!s.volumes.isEmpty()) {
            throw new FsException(Code.ENOTEMPTY, "snapshot set " + p.set() + " still holds volumes");
        }
        doc.snapshots.remove(p.set());
        dirty = true;
    }

    /** Deletes a volume, snapshot volume or lost device and the blocks only it held. */
    public void unlink(String path) {
        FsPath p = FsPath.parse(path);
        Entry e = detach(p);
        // The device's blocks are freed outside the monitor: a delete of millions of mappings walks its whole tree,
        // and stat, ls and every other namespace call must keep answering meanwhile. The name is already gone, so
        // nobody can open it; the id stays taken until the metadata lets it go. A crash before the commit below
        // leaves the last committed state (the volume whole); a periodic commit in between may store the catalog
        // without the name while the device is still whole, and then a crash shows it in lost+found.
        try {
            pool.delete(e.id);
        } catch (RuntimeException failed) {
            reattach(p, e);
            throw failed;
        }
        synchronized (this) {
            dirty = true;
        }
        commitChange();
    }

    /** Takes a volume, snapshot volume or lost device out of the namespace; returns its entry. */
    private synchronized Entry detach(FsPath p) {
        Entry e = entry(p);
        requireNames();
        switch (p.kind()) {
            case VOLUME -> doc.volumes.remove(p.name());
            case SNAPSHOT_VOLUME -> set(p.set()).volumes.remove(p.name());
            default -> lost.remove(e.id);
        }
        return e;
    }

    /** Puts back what {@link #detach} took when the delete failed; under lost+found if its name was taken since. */
    private synchronized void reattach(FsPath p, Entry e) {
        switch (p.kind()) {
            case VOLUME -> {
                if (doc.volumes.putIfAbsent(p.name(), e) != null) {
                    lost.put(e.id, e);
                }
            }
            case SNAPSHOT_VOLUME -> {
                SnapshotSet s = doc.snapshots.get(p.set());
                if (s == null || s.volumes.putIfAbsent(p.name(), e) != null) {
                    lost.put(e.id, e);
                }
            }
            default -> lost.put(e.id, e);
        }
    }

    /** {@code ln FROM TO}: a writable O(1) clone of any volume, snapshot volume or lost device. */
    public void link(String from, String to) {
        applyLink(from, to);
        commitChange();
    }

    private synchronized void applyLink(String from, String to) {
        requireNames();
        Entry src = entry(FsPath.parse(from));
        FsPath t = FsPath.parse(to);
        if (t.kind() != FsPath.Kind.VOLUME) {
            throw new FsException(Code.EPERM, "clones are made at the top level");
        }
        Names.check(t.name());
        if (doc.volumes.containsKey(t.name())) {
            throw new FsException(Code.EEXIST, t.name() + " exists");
        }
        long id = freeId();
        pool.createSnapshot(id, src.id);
        doc.volumes.put(t.name(), new Entry(id, src.size, (src.mode | 0200) & 07777, System.currentTimeMillis()));
        dirty = true;
    }

    /**
     * {@code mv}: renames a volume (atomically replacing an existing target, whose device is deleted), a snapshot
     * set, or moves a snapshot volume or lost device to a top-level volume name.
     */
    public void rename(String from, String to) {
        applyRename(from, to);
        commitChange();
    }

    private synchronized void applyRename(String from, String to) {
        requireNames();
        FsPath f = FsPath.parse(from);
        FsPath t = FsPath.parse(to);
        if (f.kind() == FsPath.Kind.SNAPSHOT_SET && t.kind() == FsPath.Kind.SNAPSHOT_SET) {
            Names.check(t.set());
            SnapshotSet s = set(f.set());
            if (doc.snapshots.containsKey(t.set()) && !f.set().equals(t.set())) {
                if (!doc.snapshots.get(t.set()).volumes.isEmpty()) {
                    throw new FsException(Code.ENOTEMPTY, "snapshot set " + t.set() + " is not empty");
                }
            }
            doc.snapshots.remove(f.set());
            doc.snapshots.put(t.set(), s);
            dirty = true;
            return;
        }
        Entry e = entry(f);
        if (t.kind() != FsPath.Kind.VOLUME) {
            throw new FsException(t.isDirectory() ? Code.EISDIR : Code.EPERM, "volumes move to top-level names only");
        }
        Names.check(t.name());
        if (f.kind() == FsPath.Kind.VOLUME && f.name().equals(t.name())) {
            return;
        }
        Entry replaced = doc.volumes.get(t.name());
        if (replaced != null) {
            pool.delete(replaced.id);
        }
        switch (f.kind()) {
            case VOLUME -> doc.volumes.remove(f.name());
            case SNAPSHOT_VOLUME -> set(f.set()).volumes.remove(f.name());
            default -> lost.remove(e.id);
        }
        e.mode |= 0200;
        doc.volumes.put(t.name(), e);
        dirty = true;
    }

    public void chmod(String path, int mode) {
        applyChmod(path, mode);
        commitChange();
    }

    private synchronized void applyChmod(String path, int mode) {
        Entry e = entry(FsPath.parse(path));
        requireNames();
        e.mode = mode & 07777;
        dirty = true;
    }

    public void setMtime(String path, long millis) {
        if (applySetMtime(path, millis)) {
            commitChange();
        }
    }

    private synchronized boolean applySetMtime(String path, long millis) {
        FsPath p = FsPath.parse(path);
        if (p.isDirectory()) {
            return false;
        }
        entry(p).mtime = millis;
        dirty = true;
        return true;
    }

    /** Sets a volume's virtual size; shrinking unmaps (and zeroes) everything past the new end. */
    public void truncate(String path, long size) {
        if (size < 0) {
            throw new FsException(Code.EINVAL, "negative size");
        }
        Entry e;
        ThinDevice dev;
        boolean grew;
        synchronized (this) {
            FsPath p = FsPath.parse(path);
            e = entry(p);
            if (p.kind() == FsPath.Kind.SNAPSHOT_VOLUME) {
                throw new FsException(Code.EROFS, "snapshot volumes are read-only");
            }
            dev = pool.device(e.id);
            grew = e.growTo(size);
            if (grew) {
                e.mtime = System.currentTimeMillis();
                dirty = true;
            }
        }
        if (!grew) {
            // Up to the end of the old last block, not the old size: a block that held the old end lies wholly
            // past the new one and must be unmapped too, not left mapped (and counted as data) beyond the end.
            long oldEnd = Math.max(e.size, size);
            long blockEnd = oldEnd > Long.MAX_VALUE - blockSize ? oldEnd
                    : (oldEnd + blockSize - 1) / blockSize * blockSize;
            dev.discard(size, blockEnd - size);
            synchronized (this) {
                e.shrinkTo(size);
                e.mtime = System.currentTimeMillis();
                dirty = true;
            }
        }
        commitChange();
    }

    // ---------------------------------------------------------------- data

    public synchronized Handle open(String path, boolean write) {
        FsPath p = FsPath.parse(path);
        Entry e = entry(p);
        boolean ro = p.kind() == FsPath.Kind.SNAPSHOT_VOLUME;
        if (write && ro) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only; clone one with ln to write");
        }
        return new Handle(pool.device(e.id), e, ro);
    }

    /** Reads up to dst.remaining() bytes at {@code offset}, stopping at the volume's end; returns bytes read. */
    public int read(Handle h, long offset, ByteBuffer dst) {
        long size = h.entry.size;
        if (offset >= size) {
            return 0;
        }
        int n = (int) Math.min(dst.remaining(), size - offset);
        dst.limit(dst.position() + n);
        try {
            h.device.read(offset, dst);
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        return n;
    }

    /** Writes all of {@code src} at {@code offset}, growing the volume when the write ends past it. */
    public void write(Handle h, long offset, ByteBuffer src) {
        if (h.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        long end = offset + src.remaining();
        int mapped;
        try {
            mapped = h.device.write(offset, src);
        } catch (OutOfDataSpaceException e) {
            throw new FsException(Code.ENOSPC, e.getMessage());
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        // A write in place changes neither mappings nor the catalog: no commit is due for it (fsync flushes its
        // data through sync()), so a steady overwrite workload is not fsynced every commit interval.
        boolean grew = h.entry.extendTo(end);
        if (grew || mapped > 0) {
            dirty = true;
        }
    }

    /**
     * lseek SEEK_DATA ({@code data}) or SEEK_HOLE: data is a mapped block, a hole an unmapped one, at block
     * granularity, as lseek(2) says: an offset at or past the size is ENXIO; SEEK_DATA with no data after the
     * offset is ENXIO; SEEK_HOLE with no hole before the end answers the size (the implicit hole at the end).
     * Costs what is mapped from the offset on, never the size.
     */
    public long seek(Handle h, long offset, boolean data) {
        long size = h.entry.size;
        if (offset < 0 || offset >= size) {
            throw new FsException(Code.ENXIO, "offset " + offset + " is not before the end (" + size + ")");
        }
        long block = offset / blockSize;
        long lastBlock = (size - 1) / blockSize;
        long found;
        try {
            found = data ? h.device.nextMapped(block, lastBlock + 1) : h.device.nextUnmapped(block, lastBlock + 1);
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        if (found < 0) {
            if (data) {
                throw new FsException(Code.ENXIO, "no data after offset " + offset);
            }
            return size;
        }
        return Math.min(size, Math.max(offset, found * blockSize));
    }

    /**
     * copy_file_range: up to {@code length} bytes of {@code in} from {@code inOffset} (fewer at its end), to
     * {@code out} at {@code outOffset}, which grows when the copy runs past its end. Whole blocks aligned on both
     * sides are shared with the source (copy on write afterwards, as after a snapshot), the rest is copied. Durable
     * as writes are: on fsync or at the next commit. At most 4 GiB less a block per call (the reply's width; callers
     * loop).
     */
    public long copyRange(Handle in, long inOffset, Handle out, long outOffset, long length) {
        if (out.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        if (inOffset < 0 || outOffset < 0 || length < 0) {
            throw new FsException(Code.EINVAL, "negative offset or length");
        }
        long n = Math.min(length, Math.max(0, in.entry.size - inOffset));
        n = Math.min(n, (0xFFFF_FFFFL / blockSize) * blockSize);
        if (n == 0) {
            return 0;
        }
        if (outOffset + n < outOffset) {
            throw new FsException(Code.EINVAL, "the copy would end past the largest size");
        }
        if (in.device.id() == out.device.id() && inOffset < outOffset + n && outOffset < inOffset + n) {
            throw new FsException(Code.EINVAL, "overlapping ranges of one file");
        }
        dirty = true;                  // a long copy's progress is committed by the periodic commits on the way
        try {
            pool.copyRange(in.device, inOffset, out.device, outOffset, n);
        } catch (OutOfDataSpaceException e) {
            throw new FsException(Code.ENOSPC, e.getMessage());
        } catch (NoSuchDeviceException e) {
            throw new FsException(Code.ENOENT, "the volume was deleted");
        }
        out.entry.extendTo(outOffset + n);
        dirty = true;
        return n;
    }

    /** fallocate PUNCH_HOLE: whole blocks are unmapped, partial edges zeroed. */
    public void punchHole(Handle h, long offset, long length) {
        if (h.readOnly) {
            throw new FsException(Code.EROFS, "snapshot volumes are read-only");
        }
        long end = Math.min(h.entry.size, offset + length);
        if (end > offset) {
            h.device.discard(offset, end - offset);
        }
        dirty = true;
    }

    public Space space() {
        PoolUsage u = pool.usage();
        long total = u.dataBlocks() * u.dataBlockSize();
        return new Space(total, (u.dataBlocks() - u.dataBlocksUsed()) * u.dataBlockSize(), u.dataBlockSize());
    }

    // ---------------------------------------------------------------- commit

    /**
     * Makes everything so far durable: the catalog for transaction N+1 goes to its slot first, then the pool
     * flushes data and commits metadata with transaction id N+1 (superblock last). A crash in between leaves
     * transaction N with its own catalog slot intact.
     */
    public void commit() throws IOException {
        if (!dirty) {
            return;
        }
        // The bulk of the data written since the last commit reaches the disk here, outside the monitor: under
        // heavy writes this flush takes hundreds of milliseconds, and getattr, open and mkdir must not wait for it.
        // The commit below then only flushes what arrived in between, under the pool's gate, not under this monitor.
        pool.preFlush();
        commitNow();
    }

    /**
     * Makes a namespace change durable before its call returns, as dm-thin commits the metadata after every pool
     * message ({@code create_thin}, {@code create_snap}, {@code delete}): {@code mkdir snapshots/x && upgrade} must
     * leave the snapshot if the host dies during the upgrade. Called after the change, outside the monitor, so the
     * pre-flush of the data (which the metadata about to be committed may point at) does not hold the namespace.
     *
     * <p>Group commit: {@link #commitNow} takes the monitor and commits every change made before it; a change
     * whose call arrives while another commit runs waits on the monitor and then finds {@link #dirty} either
     * cleared by a commit that started after it (it is in that commit, which has finished: the monitor is held to
     * the end) or still set (it commits). Never the unlocked early return of {@link #commit}: a commit that
     * cleared {@code dirty} may still be writing.
     */
    private void commitChange() {
        try {
            pool.preFlush();
            commitNow();
        } catch (IOException e) {
            throw new FsException(Code.EIO, "the change is made but could not be committed: " + e.getMessage());
        }
    }

    /** Commits names and metadata; the data was pre-flushed by the caller (the gated flush covers the rest). */
    private synchronized void commitNow() throws IOException {
        if (!dirty) {
            return;
        }
        if (pool.isReadOnly()) {
            throw new FsException(Code.EROFS, "the pool is read-only: " + pool.readOnlyReason());
        }
        dirty = false;
        try {
            if (catalogDir != null) {
                long n = pool.transactionId();
                doc.transactionId = n + 1;
                Catalog.write(catalogDir, doc);
                pool.setTransactionId(n, n + 1);
            }
            pool.commitPreFlushed();
        } catch (IOException | RuntimeException e) {
            dirty = true;
            throw e;
        }
    }

    /**
     * fsync: everything acknowledged so far becomes durable. The data flush covers every write acknowledged before
     * the call, in place or not; a commit follows when a mapping or a name changed.
     */
    public void sync() throws IOException {
        pool.freeDeleted();            // outside the monitor: a big delete's remaining frees must not hold it
        pool.flushData();
        // Under the monitor: a periodic commit may have cleared dirty and still be writing the mapping of a write
        // this fsync covers; waiting for it here is what makes "not dirty" mean "committed".
        commitNow();
    }

    /**
     * dm-thin's {@code reserve_metadata_snap}: holds a copy of the committed metadata roots that {@code thin_dump -m}
     * reads while the pool goes on changing; recorded in the superblock by the commit before this returns, so it
     * survives a remount until {@link #releaseMetadataSnapshot}.
     */
    public void holdMetadataSnapshot() throws IOException {
        pool.reserveMetadataSnapshot();
        dirty = true;
        sync();
    }

    /** dm-thin's {@code release_metadata_snap}: drops the held copy, committed before this returns. */
    public void releaseMetadataSnapshot() throws IOException {
        pool.releaseMetadataSnapshot();
        dirty = true;
        sync();
    }

    public boolean isDirty() {
        return dirty;
    }

    /** The thin device behind an open handle (for bulk tools such as import-diff). */
    public ThinDevice deviceOf(Handle h) {
        return h.device;
    }

    /** Records a change made directly on a device, so the next commit covers it. */
    public void markDirty() {
        dirty = true;
    }

    public ThinPool pool() {
        return pool;
    }

    /**
     * Runs {@code reader} on the names as they stand (the catalog and the lost devices), under the namespace
     * monitor so no change is half seen; the reader must copy what it keeps.
     */
    public synchronized <T> T readNames(java.util.function.BiFunction<Catalog.Document, Map<Long, Entry>, T> reader) {
        return reader.apply(doc, java.util.Collections.unmodifiableMap(lost));
    }

    /**
     * A device named on the command line: a volume name, {@code snapshots/SET/NAME}, {@code lost+found/dev-ID},
     * {@code dev-ID} or a bare thin device id. Returns its id and size.
     */
    public synchronized Entry resolve(String name) {
        if (name.matches("\\d+")) {
            long id = Long.parseLong(name);
            if (!pool.deviceIds().contains(id)) {
                throw new FsException(Code.ENOENT, "no thin device " + id);
            }
            return new Entry(id, extentOf(id), 0644, 0);
        }
        FsPath p = FsPath.parse("/" + name);
        if (p.kind() == FsPath.Kind.VOLUME && !doc.volumes.containsKey(p.name()) && p.name().startsWith("dev-")) {
            p = FsPath.parse("/" + FsPath.LOST_FOUND + "/" + p.name());
        }
        try {
            return entry(p).copy();
        } catch (FsException e) {
            throw new FsException(Code.ENOENT, "no volume named " + name);
        }
    }

    public synchronized Map<Long, Entry> lostDevices() {
        return new TreeMap<>(lost);
    }

    private long freeId() {
        SortedSet<Long> ids = pool.deviceIds();
        long id = 1;
        while (ids.contains(id) || isNamed(id)) {
            id++;
        }
        if (id > Layout.MAX_THIN_DEVICE_ID) {
            throw new FsException(Code.ENOSPC, "no free thin device id");
        }
        return id;
    }

    private boolean isNamed(long id) {
        for (Entry e : doc.volumes.values()) {
            if (e.id == id) {
                return true;
            }
        }
        return lost.containsKey(id);
    }

    /** Commits and closes the pool. */
    @Override
    public synchronized void close() throws IOException {
        try {
            if (!pool.isReadOnly()) {
                commit();
            }
        } finally {
            pool.close();
        }
    }
}
