package org.thinfs.fs.model;

import org.thinfs.core.io.Devices;
import org.thinfs.core.pool.BaseImage;
import org.thinfs.core.pool.DeviceBase;
import org.thinfs.core.pool.ThinPool;
import org.thinfs.fs.model.FsException.Code;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The base images of a pool's volumes: each opened once, read-only, checked against what the catalog recorded
 * when the volume was made, and attached to the devices over it (DeviceBases#attach). A volume whose image is
 * missing or changed (another size, inode or modification time, or another device) is not attached: opening it is
 * refused with one sentence saying what changed, since reading it would mix the volume's blocks with another
 * image's bytes. Everything else in the pool works as before.
 */
final class BaseImages implements Closeable {
    private final ThinPool pool;
    /** Open images by the path the catalog names. */
    private final Map<String, BaseImage> open = new HashMap<>();
    /** Devices whose image failed its check, with the sentence why. */
    private final Map<Long, String> broken = new ConcurrentHashMap<>();

    BaseImages(ThinPool pool) {
        this.pool = pool;
    }

    /** Records {@code path} as it is now, for a new volume over it (the path made absolute). */
    static BaseRecord record(Path path, boolean discardZeros) {
        Path p = path.toAbsolutePath().normalize();
        BaseRecord r = new BaseRecord();
        r.path = p.toString();
        r.discard = discardZeros ? "zero" : "origin";
        try {
            if (Devices.isBlockDevice(p)) {
                r.size = Devices.size(p);
                r.rdev = ((Number) Files.getAttribute(p, "unix:rdev")).longValue();
            } else if (Files.isRegularFile(p)) {
                r.size = Files.size(p);
                r.inode = ((Number) Files.getAttribute(p, "unix:ino")).longValue();
                r.mtimeNs = ((FileTime) Files.getAttribute(p, "unix:lastModifiedTime")).to(TimeUnit.NANOSECONDS);
            } else {
                throw new FsException(Code.EINVAL, "base image " + p + " is neither a regular file nor a block "
                        + "device");
            }
            if (!Files.isReadable(p)) {
                throw new FsException(Code.EPERM, "base image " + p + " is not readable");
            }
        } catch (NoSuchFileException e) {
            throw new FsException(Code.ENOENT, "base image " + p + " does not exist");
        } catch (IOException e) {
            throw new FsException(Code.EIO, "cannot look at base image " + p + ": " + e.getMessage());
        }
        r.limit = r.size;
        return r;
    }

    /** Attaches every named device that has a base image to it (the pool keeps no record of them). */
    void attachAll(Catalog.Document doc) {
        doc.volumes.values().forEach(this::attach);
        doc.snapshots.values().forEach(s -> s.volumes.values().forEach(this::attach));
    }

    /**
     * Attaches {@code e}'s device to the base image its entry names (or to none), after the device was made (a
     * snapshot or clone checks the image again, so one of a volume whose image changed is refused the same way) or
     * given another tree (rollback).
     */
    void attach(Catalog.Entry e) {
        if (e.base != null) {
            attach(e.id, e.base);
        } else {
            detach(e.id);
        }
    }

    /** Attaches device {@code id} to its image, or records why it cannot be (see {@link #requireUsable}). */
    synchronized void attach(long id, BaseRecord r) {
        String changed = changeOf(r);
        if (changed != null) {
            broken.put(id, changed);
            pool.bases().attach(id, null);
            return;
        }
        try {
            BaseImage image = open.get(r.path);
            if (image == null) {
                image = BaseImage.open(Path.of(r.path));
                open.put(r.path, image);
            }
            broken.remove(id);
            pool.bases().attach(id, new DeviceBase(image, r.limit, r.discardZeros()));
        } catch (IOException e) {
            broken.put(id, "cannot open base image " + r.path + ": " + e.getMessage());
            pool.bases().attach(id, null);
        }
    }

    /** Device {@code id} reads no base image. */
    void detach(long id) {
        broken.remove(id);
        pool.bases().attach(id, null);
    }

    /** Refuses device {@code id} when its base image failed its check. */
    void requireUsable(long id) {
        String why = broken.get(id);
        if (why != null) {
            throw new FsException(Code.EIO, why + "; the volume is not opened (restore the image, or delete the "
                    + "volume)");
        }
    }

    /** Why device {@code id}'s image cannot be used, or null. */
    String problem(long id) {
        return broken.get(id);
    }

    /** What changed in the image since {@code r} was recorded, as a sentence, or null when nothing did. */
    private static String changeOf(BaseRecord r) {
        Path p = Path.of(r.path);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.exists(p)) {
            return "base image " + r.path + " is missing";
        }
        BaseRecord now;
        try {
            now = record(p, false);
        } catch (FsException e) {
            return e.getMessage();
        }
        if (now.size != r.size) {
            return "base image " + r.path + " changed size (" + r.size + " bytes recorded, " + now.size + " now)";
        }
        if (r.rdev != now.rdev) {
            return "base image " + r.path + " is another device than the one recorded";
        }
        if (r.inode != now.inode) {
            return "base image " + r.path + " was replaced (another inode)";
        }
        if (r.mtimeNs != now.mtimeNs) {
            return "base image " + r.path + " was modified since the volume was made over it";
        }
        return null;
    }

    @Override
    public synchronized void close() throws IOException {
        for (BaseImage i : open.values()) {
            i.close();
        }
        open.clear();
    }
}
