package org.thinfs.fs.model;

import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.FsException.Code;

import java.util.ArrayList;
import java.util.List;

/**
 * A volume's life by name, for programs: create, delete, clone, rename, resize, and the removal of a snapshot set,
 * as the control socket and {@code thinfs volume} ask for them. Each checks its names and size here, in the one
 * place for every front end that names volumes without a path (FUSE paths reach the same checks through
 * {@link Namespace}), then calls the same namespace operation as the FUSE path does, committed before it returns.
 * Unlike {@code mv}, a rename here never replaces an existing volume: a program that asks for a free name gets an
 * error, not a deleted volume.
 */
public final class VolumeLifecycle {
    private final PoolFileSystem fs;
    private final Namespace names;
    private final VolumeAttributes attributes;
    private final CatalogCommit commits;

    VolumeLifecycle(PoolFileSystem fs, Namespace names, VolumeAttributes attributes) {
        this.fs = fs;
        this.names = names;
        this.attributes = attributes;
        this.commits = names.commits();
    }

    /** A volume as {@code list} reports it. */
    public record Volume(String name, long id, long size, long mappedBytes, long exclusiveBytes,
                         @com.fasterxml.jackson.annotation.JsonInclude(
                                 com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) Base base) {
    }

    /** A volume's base image as {@code list} reports it: where, how many of its bytes show, and any problem. */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record Base(String path, long size, long shownBytes, String discard, String problem) {
    }

    /** A snapshot set as {@code list} reports it: its name, when taken (ms since the epoch) and its volumes. */
    public record Set(String name, long created, List<Volume> volumes) {
    }

    /** Everything {@code list} reports. */
    public record Listing(List<Volume> volumes, List<Set> snapshots) {
    }

    /** The largest virtual size: whole blocks whose last byte a 64-bit signed offset (FUSE, NBD, lseek) reaches. */
    public long maxSize() {
        long bs = fs.pool().dataBlockSize();
        return Long.MAX_VALUE / bs * bs;
    }

    /** A new empty volume of {@code size} bytes, in one metadata step. */
    public void create(String name, long size) {
        Names.check(name);
        checkSize(size);
        names.createVolume("/" + name, 0644, -1, -1);
        if (size > 0) {
            attributes.truncate("/" + name, size);
        }
        commits.commitChange();
    }

    /**
     * A new volume over the read-only base image {@code base} (a file or block device): its unmapped blocks read
     * the image, the first write to a block copies the rest of that block from it. {@code size} (-1: the image's)
     * may be larger than the image (the rest reads zeros) or smaller. {@code discardZeros}: a discard leaves zeros
     * (mapped zeroed blocks) rather than the image's bytes.
     */
    public void createOver(String name, java.nio.file.Path base, long size, boolean discardZeros) {
        Names.check(name);
        BaseRecord record = BaseImages.record(base, discardZeros);
        long s = size < 0 ? record.size : size;
        checkSize(s);
        names.createVolumeOver(name, record);
        if (s > 0) {
            attributes.truncate("/" + name, s);
        }
        commits.commitChange();
    }

    /** Deletes volume {@code name}; the blocks only it maps are freed (at its last close when it is open). */
    public void delete(String name) {
        requireVolume(name);
        fs.unlink("/" + name);
    }

    /** A writable O(1) clone named {@code name} of {@code source}: a volume or {@code snapshots/SET/VOLUME}. */
    public void clone(String source, String name) {
        FsPath s = FsPath.parse("/" + source);
        if (source.startsWith("/") || (s.kind() != FsPath.Kind.VOLUME && s.kind() != FsPath.Kind.SNAPSHOT_VOLUME)
                || source.contains("//")) {
            throw new FsException(Code.EINVAL, "a clone's source is a volume name or snapshots/SET/VOLUME, not '"
                    + source.replaceAll("\\p{Cntrl}", "?") + "'");
        }
        Names.check(s.name());
        Names.check(name);
        fs.link("/" + source, "/" + name);
    }

    /** Renames volume {@code from} to {@code to}, which must be free. */
    public void rename(String from, String to) {
        requireVolume(from);
        Names.check(to);
        names.rename("/" + from, "/" + to, true);
        commits.commitChange();
    }

    /** Sets volume {@code name}'s virtual size; shrinking unmaps everything past the new end. */
    public void resize(String name, long size) {
        requireVolume(name);
        checkSize(size);
        fs.truncate("/" + name, size);
    }

    /** Removes snapshot set {@code set} whole; refused for a held set. */
    public void deleteSnapshot(String set) {
        Names.check(set);
        fs.snapshots().remove(set);
    }

    /**
     * The volumes (with what each maps, and what only it maps, counted as thin_ls counts over every device of the
     * pool) and the snapshot sets. The names are read in one step; the space figures are live, device by device
     * (PoolMaps#forEachDataBlock), so a volume deleted meanwhile is left out. Cost: every mapping, twice.
     */
    public Listing list() {
        ThinPool pool = fs.pool();
        long bs = pool.dataBlockSize();
        List<Volume> volumes = new ArrayList<>();
        List<Set> sets = new ArrayList<>();
        List<Object[]> named = fs.readNames((doc, lost) -> {
            List<Object[]> out = new ArrayList<>();
            doc.volumes.forEach((n, e) -> out.add(new Object[] {null, n, e.id, e.size, baseOf(e)}));
            doc.snapshots.forEach((set, s) -> {
                out.add(new Object[] {set, null, s.created, 0L, null});
                s.volumes.forEach((n, e) -> out.add(new Object[] {set, n, e.id, e.size, baseOf(e)}));
            });
            return out;
        });
        java.util.Map<Long, Long> alone = org.thinfs.core.tools.ThinLs.exclusiveBlocks(pool.deviceIds(),
                pool.maps()::forEachDataBlock);
        List<Volume> current = volumes;
        for (Object[] row : named) {
            if (row[1] == null) {
                current = new ArrayList<>();
                sets.add(new Set((String) row[0], (Long) row[2], current));
                continue;
            }
            long id = (Long) row[2];
            long mapped;
            try {
                mapped = pool.maps().details(id).mappedBlocks() * bs;
            } catch (org.thinfs.core.NoSuchDeviceException gone) {
                continue;                                      // deleted since the names were read
            }
            (row[0] == null ? volumes : current).add(new Volume((String) row[1], id, (Long) row[3], mapped,
                    alone.getOrDefault(id, 0L) * bs, (Base) row[4]));
        }
        return new Listing(volumes, sets);
    }

    private Base baseOf(Catalog.Entry e) {
        BaseRecord r = e.base;
        return r == null ? null : new Base(r.path, r.size, r.limit, r.discard, names.bases().problem(e.id));
    }

    private void requireVolume(String name) {
        Names.check(name);
        if (FsPath.parse("/" + name).kind() != FsPath.Kind.VOLUME) {
            throw new FsException(Code.EINVAL, "'" + name + "' is not a volume name");
        }
    }

    private void checkSize(long size) {
        if (size < 0 || size > maxSize()) {
            throw new FsException(Code.EINVAL, "size " + size + " is not between 0 and " + maxSize() + " bytes");
        }
    }
}
