package org.thinfs.fs.model;

import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.Catalog.Entry;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * File semantics of a pool, without FUSE: top-level files are thin volumes, {@code snapshots/SET/NAME} are
 * read-only snapshot volumes, {@code lost+found/dev-ID} are devices the metadata holds but the catalog does not name.
 *
 * <p>The one model every front end calls (the FUSE adapter, the control socket, the commands): {@link Namespace}
 * holds the names and changes them, {@link VolumeIo} moves data of open volumes, {@link CatalogCommit} makes both
 * durable together; {@link #snapshots()} and {@link #volumes()} group the snapshot-set and by-name volume operations
 * that programs call. A namespace change is committed before its call returns, as dm-thin commits after every pool
 * message; data is durable on {@link #sync} or at the next periodic {@link #commit}.
 *
 * <p>Locks, in order: the namespace monitor (Namespace), then the pool's (ThinPool: gate, block locks, metadata
 * lock, block manager). A commit holds the namespace through the catalog write and the pool commit, so namespace
 * changes stay atomic with it; data I/O never takes the namespace, so a commit stalls it only for the pool's own
 * quiescent section. Commit waits in the pool for in-flight I/O; I/O never waits for the namespace: no cycle.
 */
public final class PoolFileSystem implements Closeable {
    private final ThinPool pool;
    private final Namespace names;
    private final VolumeIo io;
    private final CatalogCommit commits;

    /** Attributes of a path; uid and gid -1 mean the mounting user's, times are nanoseconds since the epoch. */
    public record Attr(boolean directory, long size, long bytesUsed, int mode, long uid, long gid, long atimeNs,
                       long mtimeNs, long ctimeNs, int nlink) {
    }

    /** Space of the pool for statfs, in bytes, and its files: thin devices in use and the most it can have. */
    public record Space(long total, long free, long blockSize, long files, long maxFiles) {
    }

    private final SnapshotSets snapshots;
    private final VolumeAttributes attributes;
    private final VolumeLifecycle lifecycle;
    /** Told the device ids whose bytes changed under open handles (rollback): the FUSE front end drops its pages. */
    private volatile java.util.function.LongConsumer cacheInvalidator = id -> { };

    private PoolFileSystem(ThinPool pool, Namespace names) {
        this.pool = pool;
        this.names = names;
        this.snapshots = new SnapshotSets(pool, names, id -> cacheInvalidator.accept(id));
        this.attributes = new VolumeAttributes(names);
        this.lifecycle = new VolumeLifecycle(this, names, attributes);
        this.commits = names.commits();
        this.io = new VolumeIo(pool, commits);
    }

    /**
     * Opens the file system of a pool directory ({@code catalogDir} non-null) or of a foreign pool (null: every
     * device shows as a top-level {@code dev-ID} and names cannot change).
     */
    public static PoolFileSystem open(ThinPool pool, Path catalogDir) throws IOException {
        Catalog.Document doc = catalogDir == null ? new Catalog.Document()
                : Catalog.read(catalogDir, pool.transaction().id());
        return new PoolFileSystem(pool, new Namespace(pool, catalogDir, doc));
    }

    // ---------------------------------------------------------------- names

    public Attr getattr(String path) {
        return names.listing().getattr(path);
    }

    /** Attributes of an open volume, also after it was removed while open. */
    public Attr getattr(Handle h) {
        return names.listing().getattr(h);
    }

    public List<String> list(String path) {
        return names.listing().list(path);
    }

    /** Creates an empty volume (size 0) at a top-level name, owned by the mounting user. */
    public void createVolume(String path, int mode) {
        createVolume(path, mode, -1, -1);
    }

    /** Creates an empty volume (size 0) at a top-level name, owned by {@code uid}:{@code gid}. */
    public void createVolume(String path, int mode, long uid, long gid) {
        names.createVolume(path, mode, uid, gid);
        commits.commitChange();
    }

    /** Takes {@code snapshots/SET}: a snapshot of every volume, all in one metadata step. */
    public void mkdir(String path) {
        names.mkdir(path);
        commits.commitChange();
    }

    /** Registers what drops cached pages of a device whose bytes changed under its open handles. */
    public void setCacheInvalidator(java.util.function.LongConsumer invalidator) {
        cacheInvalidator = invalidator;
    }

    /** Snapshot sets: take, roll back to, hold, prune, bookmark; each change committed before it returns. */
    public SnapshotSets snapshots() {
        return snapshots;
    }

    public void rmdir(String path) {
        names.rmdir(path);
        commits.commitChange();
    }

    /** Deletes a volume, snapshot volume or lost device and the blocks only it held. */
    public void unlink(String path) {
        names.unlink(path);
        commits.commitChange();
    }

    /** {@code ln FROM TO}: a writable O(1) clone of any volume, snapshot volume or lost device. */
    public void link(String from, String to) {
        names.link(from, to);
        commits.commitChange();
    }

    /**
     * {@code mv}: renames a volume (atomically replacing an existing target, whose device is deleted), a snapshot
     * set, or moves a snapshot volume or lost device to a top-level volume name.
     */
    public void rename(String from, String to) {
        names.rename(from, to);
        commits.commitChange();
    }

    public void chmod(String path, int mode) {
        attributes.chmod(path, mode);
        commits.commitChange();
    }

    /**
     * utimensat: each time in nanoseconds since the epoch, or {@link Times#NOW} / {@link Times#OMIT}. Snapshot
     * volumes refuse with EROFS.
     */
    public void setTimes(String path, long atimeNs, long mtimeNs) {
        if (attributes.setTimes(path, atimeNs, mtimeNs)) {
            commits.commitChange();
        }
    }

    /**
     * chown; -1 leaves an id unchanged. {@code mountUid}/{@code mountGid} stand for an owner not recorded yet. The
     * kernel has checked who may do it (default_permissions); snapshot volumes refuse with EROFS.
     */
    public void chown(String path, long uid, long gid, long mountUid, long mountGid) {
        attributes.chown(path, uid, gid, mountUid, mountGid);
        commits.commitChange();
    }

    /** Sets a volume's virtual size; shrinking unmaps (and zeroes) everything past the new end. */
    public void truncate(String path, long size) {
        attributes.truncate(path, size);
        commits.commitChange();
    }

    /** ftruncate: as {@link #truncate(String, long)} through an open handle (also of a volume removed while open). */
    public void truncate(Handle h, long size) {
        attributes.truncate(h, size);
        commits.commitChange();
    }

    /**
     * A device named on the command line: a volume name, {@code snapshots/SET/NAME}, {@code lost+found/dev-ID},
     * {@code dev-ID} or a bare thin device id. Returns its id and size.
     */
    public Entry resolve(String name) {
        return names.resolve(name);
    }

    public Map<Long, Entry> lostDevices() {
        return names.lostDevices();
    }

    /**
     * Runs {@code reader} on the names as they stand (the catalog and the lost devices), under the namespace
     * monitor so no change is half seen; the reader must copy what it keeps.
     */
    public <T> T readNames(java.util.function.BiFunction<Catalog.Document, Map<Long, Entry>, T> reader) {
        return names.readNames(reader);
    }

    /** Volume operations by name, for programs (the control socket, thinfs volume). */
    public VolumeLifecycle volumes() {
        return lifecycle;
    }

    /**
     * Whether {@code path} still names the device {@code h} was opened on: false once it was deleted or renamed.
     * {@code seen} is the {@link #nameRemovals()} the caller last checked at; while it is unchanged, no lookup.
     */
    public boolean stillNamed(String path, Handle h, long seen) {
        return seen == names.nameRemovals() || names.names(path, h.entry.id);
    }

    /** A count that moves whenever a name is taken from a device (see {@link #stillNamed}). */
    public long nameRemovals() {
        return names.nameRemovals();
    }

    // ---------------------------------------------------------------- data

    /** Opens a volume; every handle is given back with {@link #release}. */
    public Handle open(String path, boolean write) {
        return names.open().open(path, write);
    }

    /**
     * Closes a handle (a second call does nothing). The last close of a volume removed while open frees its
     * blocks, as a file system frees an unlinked file's.
     */
    public void release(Handle h) {
        names.open().release(h);
    }

    /** Gives the pool a uuid if it has none (committed with the next commit); the mount daemon calls it. */
    public void ensureUuid() {
        names.ensureUuid();
    }

    /** The identity of a snapshot volume's image in diff streams, or "" (see Namespace#identity). */
    public String identity(String name) {
        return names.identity(name);
    }

    /** The image identity an import left on the volume, or null once anything wrote it since. */
    public String received(String name) {
        return resolve(name).received;
    }

    /** Records that an import made the open volume equal to image {@code identity} (null: none known). */
    public void setReceived(Handle h, String identity) {
        h.entry.received = identity == null || identity.isEmpty() ? null : identity;
        commits.mark();
    }

    /** Records that a bulk tool (import-diff) changed an open volume's bytes: its mtime and ctime move. */
    public void dataChanged(Handle h) {
        h.entry.dataChanged(Catalog.nowNs());
        commits.mark();
    }

    /**
     * The bytes of {@code h}'s volume changed behind the FUSE front end (an import on a mounted pool): other open
     * descriptors of it drop their cached pages.
     */
    public void changedBehindCaches(Handle h) {
        cacheInvalidator.accept(h.entry.id);
    }

    /** Reads up to dst.remaining() bytes at {@code offset}, stopping at the volume's end; returns bytes read. */
    public int read(Handle h, long offset, ByteBuffer dst) {
        return io.read(h, offset, dst);
    }

    /** As {@link #read}, returning which blocks read were holes (see VolumeIo#readReportingHoles). */
    public boolean[] readReportingHoles(Handle h, long offset, ByteBuffer dst) {
        return io.readReportingHoles(h, offset, dst);
    }

    /** Writes all of {@code src} at {@code offset}, growing the volume when the write ends past it. */
    public void write(Handle h, long offset, ByteBuffer src) {
        io.write(h, offset, src);
    }

    /** A write whose bytes {@code src} moves itself, when it can be made in place; see VolumeIo#writeInPlaceFrom. */
    public boolean writeInPlaceFrom(Handle h, long offset, int length, org.thinfs.core.pool.ExternalBytes src) {
        return io.writeInPlaceFrom(h, offset, length, src);
    }

    /** lseek SEEK_DATA ({@code data}) or SEEK_HOLE; see VolumeIo#seek. */
    public long seek(Handle h, long offset, boolean data) {
        return io.seek(h, offset, data);
    }

    /** copy_file_range, sharing whole aligned blocks; see VolumeIo#copyRange. */
    public long copyRange(Handle in, long inOffset, Handle out, long outOffset, long length) {
        return io.copyRange(in, inOffset, out, outOffset, length);
    }

    /** fallocate ZERO_RANGE (see VolumeIo#zeroRange). */
    public void zeroRange(Handle h, long offset, long length, boolean keepSize) {
        io.zeroRange(h, offset, length, keepSize);
    }

    /** fallocate mode 0 / KEEP_SIZE: preallocation (see VolumeIo#preallocate). */
    public void preallocate(Handle h, long offset, long length, boolean keepSize) {
        io.preallocate(h, offset, length, keepSize);
    }

    /** fallocate PUNCH_HOLE: whole blocks are unmapped, partial edges zeroed. */
    public void punchHole(Handle h, long offset, long length) {
        io.punchHole(h, offset, length);
    }

    public Space space() {
        return io.space();
    }

    /** The thin device behind an open handle (for bulk tools such as import-diff). */
    public ThinDevice deviceOf(Handle h) {
        return h.device;
    }

    // ---------------------------------------------------------------- durability

    /** Makes everything so far durable (the periodic commit); see CatalogCommit#commit. */
    public void commit() throws IOException {
        commits.commit();
    }

    /** {@link #commit()}, with times alone saved once they are {@code timesAfterNanos} old (tests shorten it). */
    void commit(long timesAfterNanos) throws IOException {
        commits.commit(timesAfterNanos);
    }

    /** fsync: everything acknowledged so far becomes durable, the volumes' times too. */
    public void sync() throws IOException {
        commits.sync(true);
    }

    /**
     * fdatasync (and NBD's FLUSH): everything acknowledged so far becomes durable and readable after a crash; a
     * time that alone changed (a write in place) waits for the next commit, as fdatasync leaves mtime.
     */
    public void syncData() throws IOException {
        commits.sync(false);
    }

    /** Times changed (writes in place) that no commit stored yet: fsync, close or the next commit store them. */
    public boolean timesPending() {
        return commits.timesPending();
    }

    public boolean isDirty() {
        return commits.isDirty();
    }

    /** Nanoseconds until a periodic commit with this interval is due (0 or less: now; Long.MAX_VALUE: none is). */
    long nanosUntilCommitDue(long intervalNanos) {
        return commits.nanosUntilDue(intervalNanos);
    }

    /** Records a change made directly on a device, so the next commit covers it. */
    public void markDirty() {
        commits.mark();
    }

    /**
     * dm-thin's {@code reserve_metadata_snap}: holds a copy of the committed metadata roots that {@code thin_dump -m}
     * reads while the pool goes on changing; recorded in the superblock by the commit before this returns, so it
     * survives a remount until {@link #releaseMetadataSnapshot}.
     */
    public void holdMetadataSnapshot() throws IOException {
        pool.transaction().reserveMetadataSnapshot();
        commits.mark();
        sync();
    }

    /** dm-thin's {@code release_metadata_snap}: drops the held copy, committed before this returns. */
    public void releaseMetadataSnapshot() throws IOException {
        pool.transaction().releaseMetadataSnapshot();
        commits.mark();
        sync();
    }

    public ThinPool pool() {
        return pool;
    }

    /** Why device {@code id}'s base image cannot be used (missing or changed), or null. */
    String baseProblem(long id) {
        return names.bases().problem(id);
    }

    /** Commits and closes the pool. */
    @Override
    public void close() throws IOException {
        try {
            if (!pool.isReadOnly()) {
                commits.commitAll();
            }
        } finally {
            try {
                pool.close();
            } finally {
                try {
                    names.bases().close();
                } finally {
                    commits.close();
                }
            }
        }
    }
}
