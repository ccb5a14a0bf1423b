package org.thinfs.fs.model;

import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.Catalog.SnapshotSet;
import org.thinfs.fs.model.FsException.Code;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The names of a pool: volumes, snapshot sets and their volumes, lost devices; what each name refers to and every
 * change to them (create, snapshot, link, rename over, delete, truncate). Its monitor is the namespace lock, the
 * first lock of the order (namespace, then the pool's gate, block locks, metadata lock; see ThinPool); data I/O
 * never takes it (VolumeIo). Changes mark {@link CatalogCommit}; making them durable is the caller's next step.
 * Snapshot sets are taken by {@link SnapshotSetTaker} and worked with by {@link SnapshotWorkflows}, what stat
 * and readdir see is read by {@link NameListing}, and which map holds a name is {@link NameMaps}'s to know, all
 * under the same monitor.
 */
final class Namespace {
    private final ThinPool pool;
    /** Where the catalog lives; null for a foreign pool (kernel or LVM), whose names are not ours to store. */
    private final Path catalogDir;
    /** Guarded by this. */
    private final Catalog.Document doc;
    /** Which map holds each name: volumes, snapshot volumes, lost devices, hidden names. Guarded by this. */
    private final NameMaps nameMaps;
    private final CatalogCommit commits;
    /** Open handles and orphans. */
    private final OpenVolumes open;
    /** The base images volumes read their unmapped blocks from. */
    private final BaseImages bases;
    /** Takes snapshot sets (mkdir snapshots/NAME, thinfs snapshot). */
    private final SnapshotSetTaker sets = new SnapshotSetTaker(this);
    private final NameListing listing;

    /**
     * How many times a name was taken from a device (delete, rename, a set removed); volatile so that a front end
     * holding a device by a name (an NBD export) sees cheaply, without the monitor, when to look the name up again.
     */
    private volatile long nameRemovals;

    Namespace(ThinPool pool, Path catalogDir, Catalog.Document doc) {
        this.pool = pool;
        this.catalogDir = catalogDir;
        this.doc = doc;
        this.nameMaps = new NameMaps(doc, catalogDir == null);
        this.commits = new CatalogCommit(pool, catalogDir, doc, this);
        this.open = new OpenVolumes(this, pool, doc);
        this.bases = new BaseImages(pool);
        this.listing = new NameListing(this, pool, catalogDir == null);
        reconcile();
        synchronized (this) {
            bases.attachAll(doc);
        }
    }

    /** What takes snapshot sets, and adds volumes to them. */
    SnapshotSetTaker setTaker() {
        return sets;
    }

    /** After a device was made or given another tree: see BaseImages#attach(Entry). */
    void attachBase(Entry e) {
        bases.attach(e);
    }

    BaseImages bases() {
        return bases;
    }

    /**
     * Creates volume {@code name} of {@code size} bytes over the base image {@code base} recorded: unmapped blocks
     * read the image (checked again as it is opened here), its size defaults to the image's.
     */
    synchronized void createVolumeOver(String name, BaseRecord base) {
        createVolume("/" + name, 0644, -1, -1);
        Entry e = doc.volumes.get(name);
        e.base = base;
        bases.attach(e.id, base);
        try {
            bases.requireUsable(e.id);
        } catch (FsException refused) {
            doc.volumes.remove(name);
            pool.delete(e.id);
            throw refused;
        }
        commits.mark();
    }

    /** Volume {@code e} (device {@code id}) shows no byte of its base image at or past {@code size} from now on. */
    synchronized void limitBase(Entry e, long size) {
        if (e.base != null) {
            e.base = e.base.limitedTo(size);
            pool.bases().limit(e.id, size);
        }
    }

    long nameRemovals() {
        return nameRemovals;
    }

    /** Whether {@code path} names device {@code id} now. */
    synchronized boolean names(String path, long id) {
        try {
            return entry(FsPath.parse(path)).id == id;
        } catch (FsException gone) {
            return false;
        }
    }

    CatalogCommit commits() {
        return commits;
    }

    /** The catalog document, for SnapshotWorkflows and NameListing, which hold this monitor while they use it. */
    Catalog.Document doc() {
        return doc;
    }

    ThinPool pool() {
        return pool;
    }

    /** Handles open for writing on device {@code id}; the caller holds this object's monitor. */
    int writersOf(long id) {
        return open.writersOf(id);
    }

    /** The open handles of this namespace's volumes. */
    OpenVolumes open() {
        return open;
    }

    /** Whether libfuse holds device {@code id} under a hidden name (it unlinks it itself at its last close). */
    boolean isHidden(long id) {
        return nameMaps.isHidden(id);
    }

    /** Refuses to take a name out of a held set: holds keep a set whole. */
    void requireUnheld(String setName) {
        nameMaps.requireUnheld(setName);
    }

    private synchronized void reconcile() {
        CatalogReconcile.run(pool, doc, catalogDir == null, nameMaps.lost());
        open.freeOrphansLeftBehind();
    }

    /**
     * Gives the pool its uuid if it has none: at mount and with every snapshot, never by a mere open, so a command
     * that opens the pool and refuses (import-diff) changes no byte of it.
     */
    synchronized void ensureUuid() {
        if (doc.uuid == null && catalogDir != null && !pool.isReadOnly()) {
            doc.uuid = java.util.UUID.randomUUID().toString();
            commits.mark();
        }
    }

    /**
     * The identity of a snapshot volume's image in diff streams ({@code UUID/ID@CREATION-TIME}), or "" for
     * anything that is not frozen (a live volume) or a pool without a uuid yet (opened only read-only so far).
     */
    synchronized String identity(String name) {
        FsPath p = FsPath.parse("/" + name);
        if (p.kind() != FsPath.Kind.SNAPSHOT_VOLUME || doc.uuid == null) {
            return "";
        }
        Entry e = entry(p);
        return doc.uuid + "/" + e.id + "@" + pool.maps().details(e.id).creationTime();
    }

    private long extentOf(long id) {
        return CatalogReconcile.extentOf(pool, id);
    }

    /** What stat and readdir see. */
    NameListing listing() {
        return listing;
    }

    /** The ids of the lost devices, ascending; the caller holds this object's monitor. */
    java.util.Set<Long> lostIds() {
        return java.util.Collections.unmodifiableSet(nameMaps.lost().keySet());
    }

    SnapshotSet set(String name) {
        return nameMaps.set(name);
    }

    /** The catalog entry of a file path. */
    Entry entry(FsPath p) {
        return nameMaps.entry(p);
    }

    void requireNames() {
        if (catalogDir == null) {
            throw new FsException(Code.EPERM, "a foreign pool (made by the kernel or LVM) keeps its device ids: "
                    + "names and snapshots cannot change here");
        }
    }

    /** Creates an empty volume owned by {@code uid}:{@code gid} (-1: the mounting user). */
    synchronized void createVolume(String path, int mode, long uid, long gid) {
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
        Entry e = new Entry(id, 0, mode & 07777, Catalog.nowNs());
        e.uid = uid;
        e.gid = gid;
        doc.volumes.put(p.name(), e);
        attachBase(e);                                 // none: forgets what a deleted device of this id had
        commits.mark();
    }

    synchronized void mkdir(String path) {
        requireNames();
        FsPath p = FsPath.parse(path);
        if (p.kind() != FsPath.Kind.SNAPSHOT_SET) {
            throw new FsException(p.kind() == FsPath.Kind.VOLUME && doc.volumes.containsKey(p.name())
                    ? Code.EEXIST : Code.EPERM, "only snapshots/NAME directories can be made");
        }
        sets.take(p.set(), null, null, null, null);
    }

    synchronized void rmdir(String path) {
        FsPath p = FsPath.parse(path);
        if (p.kind() != FsPath.Kind.SNAPSHOT_SET) {
            throw new FsException(p.isDirectory() ? Code.EPERM : Code.ENOTDIR, "cannot remove " + path);
        }
        SnapshotSet s = set(p.set());
        requireUnheld(p.set());
        if (!s.volumes.isEmpty()) {
            throw new FsException(Code.ENOTEMPTY, "snapshot set " + p.set() + " still holds volumes");
        }
        doc.snapshots.remove(p.set());
        commits.mark();
    }

    /** Deletes a volume, snapshot volume or lost device and the blocks only it held. */
    void unlink(String path) {
        FsPath p = FsPath.parse(path);
        Entry e = detach(p);
        if (e == null) {
            return;                                    // still open: an orphan until its last close
        }
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
            doc.orphans.remove(e.id);                  // it was one if libfuse had hidden it
        }
        commits.mark();
    }

    /**
     * Takes a volume, snapshot volume or lost device out of the namespace; returns its entry for the caller to
     * delete, or null when the device is still open: then it became an orphan, deleted by the last close.
     */
    private synchronized Entry detach(FsPath p) {
        Entry e = entry(p);
        requireNames();
        removeName(p, e);                              // a hidden name: libfuse's last close, the orphan goes now
        if (open.orphanIfOpen(e.id)) {
            return null;
        }
        return e;
    }

    /** Puts back what {@link #detach} took when the delete failed; under lost+found if its name was taken since. */
    private synchronized void reattach(FsPath p, Entry e) {
        nameMaps.putBack(p, e);
    }

    synchronized void link(String from, String to) {
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
        Entry clone = src.copy();                      // like a hard link: the same owner and times, a new ctime
        clone.id = id;
        clone.mode = (src.mode | 0200) & 07777;
        clone.ctimeNs = Catalog.nowNs();
        doc.volumes.put(t.name(), clone);
        attachBase(clone);
        commits.mark();
    }

    synchronized void rename(String from, String to) {
        rename(from, to, false);
    }

    /** As {@code mv}; with {@code noReplace} (RENAME_NOREPLACE) an existing target is refused, never deleted. */
    synchronized void rename(String from, String to, boolean noReplace) {
        requireNames();
        FsPath f = FsPath.parse(from);
        FsPath t = FsPath.parse(to);
        if (f.kind() == FsPath.Kind.SNAPSHOT_SET && t.kind() == FsPath.Kind.SNAPSHOT_SET) {
            Names.check(t.set());
            SnapshotSet s = set(f.set());
            if (doc.snapshots.containsKey(t.set()) && !f.set().equals(t.set())) {
                requireUnheld(t.set());
                if (!doc.snapshots.get(t.set()).volumes.isEmpty()) {
                    throw new FsException(Code.ENOTEMPTY, "snapshot set " + t.set() + " is not empty");
                }
            }
            doc.snapshots.remove(f.set());
            doc.snapshots.put(t.set(), s);
            commits.mark();
            return;
        }
        Entry e = entry(f);
        if (f.kind() == FsPath.Kind.SNAPSHOT_VOLUME) {
            requireUnheld(f.set());                    // before anything changes (a replaced volume is deleted)
        }
        if (t.kind() == FsPath.Kind.HIDDEN) {
            hide(f, t.name(), e);
            return;
        }
        if (t.kind() != FsPath.Kind.VOLUME) {
            throw new FsException(t.isDirectory() ? Code.EISDIR : Code.EPERM, "volumes move to top-level names only");
        }
        Names.check(t.name());
        if (f.kind() == FsPath.Kind.VOLUME && f.name().equals(t.name())) {
            return;
        }
        Entry replaced = doc.volumes.get(t.name());
        if (replaced != null && noReplace) {
            throw new FsException(Code.EEXIST, t.name() + " exists");
        }
        if (replaced != null && !open.orphanIfOpen(replaced.id)) {
            pool.delete(replaced.id);
        }
        removeName(f, e);
        doc.orphans.remove(e.id);                      // an orphan named again is no orphan (a no-op otherwise)
        e.mode |= 0200;
        e.ctimeNs = Catalog.nowNs();
        doc.volumes.put(t.name(), e);
        commits.mark();
    }

    /**
     * libfuse2 removing an open volume (rm, or mv over it): the name goes from the namespace at once, the device
     * stays for the open handles under {@code hiddenName}, and becomes an orphan that the last close deletes.
     */
    private void hide(FsPath from, String hiddenName, Entry e) {
        removeName(from, e);
        nameMaps.hide(hiddenName, e);
        doc.orphans.add(e.id);
        commits.mark();
    }

    /** Takes the name {@code p} of entry {@code e} out of whichever map holds it (NameMaps), and counts it. */
    private void removeName(FsPath p, Entry e) {
        nameRemovals++;
        nameMaps.remove(p, e);
    }

    /**
     * Runs {@code reader} on the names as they stand (the catalog and the lost devices), under the namespace
     * monitor so no change is half seen; the reader must copy what it keeps.
     */
    synchronized <T> T readNames(java.util.function.BiFunction<Catalog.Document, Map<Long, Entry>, T> reader) {
        return reader.apply(doc, java.util.Collections.unmodifiableMap(nameMaps.lost()));
    }

    /**
     * A device named on the command line: a volume name, {@code snapshots/SET/NAME}, {@code lost+found/dev-ID},
     * {@code dev-ID} or a bare thin device id. Returns its id and size.
     */
    synchronized Entry resolve(String name) {
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

    synchronized Map<Long, Entry> lostDevices() {
        return new TreeMap<>(nameMaps.lost());
    }

    private long freeId() {
        return freeIds(1)[0];
    }

    /** {@code n} thin device ids neither the metadata nor the catalog uses; the caller holds this monitor. */
    long[] freeIds(int n) {
        return CatalogReconcile.freeIds(pool, doc, nameMaps.lost(), n);
    }
}
