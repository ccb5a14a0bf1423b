package org.thinfs.fs.fuse;

import jnr.ffi.Pointer;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.thinfs.core.io.DirectBufferPool;
import org.thinfs.core.pool.ExternalBytes;
import org.thinfs.fs.model.FsException;
import org.thinfs.fs.model.Handle;
import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.model.Times;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

import java.nio.ByteBuffer;

/**
 * Translates FUSE calls into {@link PoolFileSystem} calls and nothing more: resolve, call, map errors in
 * {@link Errno}. The data path moves bytes between FUSE's request buffer and the data file through a direct
 * ByteBuffer over the request memory, so no heap copy is made.
 */
public final class ThinFuse extends PinnedThreadsFuseFS {
    private static final int O_ACCMODE = 3;
    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final int FALLOC_FL_NO_HIDE_STALE = 0x04;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;
    /** Only without --add-opens: a read then goes through one of these (bounded whatever threads FUSE starts). */
    private static final DirectBufferPool FALLBACK = new DirectBufferPool(8, 1 << 20);

    private final PoolFileSystem fs;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
    private final OpenFiles files = new OpenFiles();
    private final RequestCalls calls = new RequestCalls(files);
    private final long uid;
    private final long gid;

    /** The data file large writes are spliced into, or null (see {@link #spliceWritesInto}). */
    private volatile java.nio.file.Path spliceTarget;

    public ThinFuse(PoolFileSystem fs, long uid, long gid) {
        this.fs = fs;
        this.uid = uid;
        this.gid = gid;
        fs.setCacheInvalidator(this::dropCachedPages);
    }

    /** After a rollback of device {@code deviceId}: every open descriptor on it reads the new bytes next. */
    private void dropCachedPages(long deviceId) {
        files.nodesWhere(h -> fs.deviceOf(h).id() == deviceId).forEach(this::invalidateNode);
    }

    /** Counts every answered request (the daemon's metrics); none are counted until set. */
    public void setRequestStats(org.thinfs.fs.metrics.RequestStats stats) {
        calls.setStats(stats);
    }

    @Override
    public int getattr(String path, FileStat stat) {
        return calls.call("getattr", path, () -> FuseStructs.fill(stat, fs.getattr(path), uid, gid));
    }

    /** fstat: from the open handle, so a volume removed while open still answers (its path is null then). */
    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        OpenFiles.OpenFile f = files.get(fi.fh.get());
        Handle h = f == null ? null : f.handle;
        if (h == null) {
            return path == null ? -ErrorCodes.EBADF() : getattr(path, stat);
        }
        return calls.call("fgetattr", path, () -> FuseStructs.fill(stat, fs.getattr(h), uid, gid));
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        return calls.call("readdir", path, () -> {
            filter.apply(buf, ".", null, 0);
            filter.apply(buf, "..", null, 0);
            for (String name : fs.list(path)) {
                filter.apply(buf, name, null, 0);
            }
            return 0;
        });
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        return calls.call("create", path, () -> {
            fs.createVolume(path, (int) mode, callerUid(), callerGid());
            long fh = files.add(fs.open(path, true), path, 0);   // CREATE's header names the parent directory
            fi.fh.set(fh);
            return 0;
        });
    }

    @Override
    public int mknod(String path, @mode_t long mode, long rdev) {
        if ((mode & FileStat.S_IFMT) != FileStat.S_IFREG && (mode & FileStat.S_IFMT) != 0) {
            return -ErrorCodes.EPERM();
        }
        return calls.run("mknod", path, () -> fs.createVolume(path, (int) mode, callerUid(), callerGid()));
    }

    /** The uid of the process making this request (a new volume is theirs, as on any file system). */
    private long callerUid() {
        return Integer.toUnsignedLong(getContext().uid.intValue());
    }

    private long callerGid() {
        return Integer.toUnsignedLong(getContext().gid.intValue());
    }

    @Override
    public int symlink(String oldpath, String newpath) {
        return -ErrorCodes.EPERM();             // as mkdir outside snapshots/: only volumes and snapshot sets exist
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return calls.call("open", path, () -> {
            boolean write = (fi.flags.get() & O_ACCMODE) != 0;
            fi.fh.set(files.add(fs.open(path, write), path, requestNodeId()));
            return 0;
        });
    }

    private Handle handle(FuseFileInfo fi) {
        return handle(fi.fh.get());
    }

    /** The open volume {@code fh}; a read or write on it also tells a created file its node (OpenFiles). */
    private Handle handle(long fh) {
        OpenFiles.OpenFile f = files.get(fh);
        if (f == null) {
            throw new FsException(FsException.Code.EIO, "stale file handle");
        }
        if (!f.knowsNode()) {                          // one volatile read on the read and write path
            f.learnNode(requestNodeId());
        }
        return f.handle;
    }

    /** Registers a handle opened elsewhere (the warm-up's scratch volumes) as if FUSE had opened it; its fh. */
    long adopt(Handle h, String path, long node) {
        return files.add(h, path, node);
    }

    /** The open volume {@code fh}, or null. */
    private Handle openHandle(long fh) {
        OpenFiles.OpenFile f = files.get(fh);
        return f == null ? null : f.handle;
    }

    /** SEEK_DATA / SEEK_HOLE on an open volume, through the handle {@code open} registered. */
    @Override
    protected long lseek(long fh, long offset, int whence) {
        Handle h = openHandle(fh);
        if (h == null) {
            return -ErrorCodes.EBADF();
        }
        if (whence != SEEK_DATA && whence != SEEK_HOLE) {
            return -ErrorCodes.EINVAL();
        }
        try {
            return fs.seek(h, offset, whence == SEEK_DATA);
        } catch (RuntimeException | Error e) {
            return Errno.of("lseek", "fh " + fh, e);
        }
    }

    /** copy_file_range within the pool: aligned whole blocks are shared, not copied (PoolFileSystem#copyRange). */
    @Override
    protected long copyFileRange(long fhIn, long offIn, long fhOut, long offOut, long len, long flags) {
        Handle in = openHandle(fhIn);
        Handle out = openHandle(fhOut);
        if (in == null || out == null) {
            return -ErrorCodes.EBADF();
        }
        if (flags != 0) {
            return -ErrorCodes.EINVAL();
        }
        try {
            return fs.copyRange(in, offIn, out, offOut, len);
        } catch (RuntimeException | Error e) {
            return Errno.of("copy_file_range", "fh " + fhIn + " to fh " + fhOut, e);
        }
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        Handle h = files.remove(fi.fh.get());
        if (h == null) {
            return 0;
        }
        return calls.run("release", path, () -> fs.release(h));
    }

    /** Read and write are served in the request loop (RawRequests) where native memory can be viewed in place. */
    @Override
    protected boolean servesDataByHandle() {
        return NativeBuffers.available();
    }

    @Override
    protected int readHandle(long fh, long offset, ByteBuffer dst) {
        return calls.call("read", fh, true, () -> fs.read(handle(fh), offset, dst));
    }

    @Override
    protected int writeHandle(long fh, long offset, ByteBuffer src) {
        return calls.call("write", fh, true, () -> writeFrom(handle(fh), offset, src));
    }

    @Override
    protected int fallocateHandle(long fh, int mode, long offset, long length) {
        return calls.call("fallocate", fh, false, () -> allocate(handle(fh), mode, offset, length));
    }

    /** Large writes made in place are spliced from /dev/fuse into {@code dataFile} (SpliceReceiver); null: none. */
    void spliceWritesInto(java.nio.file.Path dataFile) {
        this.spliceTarget = dataFile;
    }

    @Override
    protected java.nio.file.Path spliceTarget() {
        return fs.pool().isReadOnly() ? null : spliceTarget;
    }

    /** As {@link #writeHandle}, counted the same way; a declined write is not counted (its retry from memory is). */
    @Override
    protected int writeHandleFrom(long fh, long offset, int size, ExternalBytes src) {
        return calls.splicedWrite(fh, size, () -> fs.writeInPlaceFrom(handle(fh), offset, size, src));
    }

    private int writeFrom(Handle h, long offset, ByteBuffer src) {
        int size = src.remaining();
        fs.write(h, offset, src);
        return size;
    }

    /** Without --add-opens only (RawRequests serves reads otherwise): through a bounded pool of direct buffers. */
    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        long fh = fi.fh.get();
        return calls.call("read", path, true, () -> {
            Handle h = handle(fh);
            ByteBuffer tmp = FALLBACK.acquire();
            int done = 0;
            try {
                byte[] chunk = new byte[(int) Math.min(tmp.capacity(), size)];
                while (done < size) {
                    tmp.clear().limit((int) Math.min(tmp.capacity(), size - done));
                    int n = fs.read(h, offset + done, tmp);
                    if (n == 0) {
                        break;
                    }
                    tmp.flip();
                    tmp.get(chunk, 0, n);
                    buf.put(done, chunk, 0, n);
                    done += n;
                }
            } finally {
                FALLBACK.release(tmp);
            }
            return done;
        });
    }

    /** Without --add-opens only, as {@link #read}: through a heap copy. */
    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return calls.call("write", path, true, () -> {
            byte[] copy = new byte[(int) size];
            buf.get(0, copy, 0, copy.length);
            return writeFrom(handle(fi.fh.get()), offset, ByteBuffer.wrap(copy));
        });
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return calls.run("truncate", path, () -> fs.truncate(path, size));
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return calls.run("ftruncate", path, () -> fs.truncate(handle(fi), size));
    }

    /** Without --add-opens only (RawRequests serves fallocate otherwise). */
    @Override
    public int fallocate(String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
        return calls.call("fallocate", path, () -> allocate(handle(fi.fh.get()), mode, off, length));
    }

    private int allocate(Handle h, int mode, long off, long length) {
        boolean keepSize = (mode & FALLOC_FL_KEEP_SIZE) != 0;
        int op = mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_NO_HIDE_STALE);
        switch (op) {
            case 0 -> fs.preallocate(h, off, length, keepSize);
            case FALLOC_FL_PUNCH_HOLE -> fs.punchHole(h, off, length);     // the kernel requires KEEP_SIZE
            case FALLOC_FL_ZERO_RANGE -> fs.zeroRange(h, off, length, keepSize);
            // The kernel's FUSE passes no other mode (collapse, insert and unshare range get EOPNOTSUPP there).
            default -> throw new FsException(FsException.Code.EOPNOTSUPP, "fallocate mode " + mode
                    + " is not supported");
        }
        return 0;
    }

    /** Without --add-opens only (RawRequests serves fsync otherwise, as {@link #fsyncHandle}). */
    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return calls.call("fsync", path, () -> syncPool(isdatasync != 0));
    }

    /** fsync of any volume makes the whole pool durable (one commit covers every volume's writes). */
    @Override
    protected int fsyncHandle(long fh, boolean dataOnly) {
        return calls.call("fsync", fh, false, () -> syncPool(dataOnly));
    }

    private int syncPool(boolean dataOnly) {
        try {
            if (dataOnly) {
                fs.syncData();
            } else {
                fs.sync();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return 0;
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return 0;
    }

    @Override
    public int unlink(String path) {
        return calls.run("unlink", path, () -> fs.unlink(path));
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        return calls.run("mkdir", path, () -> fs.mkdir(path));
    }

    @Override
    public int rmdir(String path) {
        return calls.run("rmdir", path, () -> fs.rmdir(path));
    }

    @Override
    public int link(String oldpath, String newpath) {
        return calls.run("link", oldpath, () -> fs.link(oldpath, newpath));
    }

    @Override
    public int rename(String oldpath, String newpath) {
        return calls.run("rename", oldpath, () -> fs.rename(oldpath, newpath));
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        return calls.run("chmod", path, () -> fs.chmod(path, (int) mode));
    }

    @Override
    public int chown(String path, long uid, long gid) {
        // The kernel checked who may (default_permissions): root changes anything, an owner only the group.
        return calls.run("chown", path, () -> fs.chown(path, unchangedOr(uid), unchangedOr(gid), this.uid, this.gid));
    }

    /** A uid_t/gid_t as jnr passes it (unsigned 32 bits in a long): (uid_t) -1 means "leave it", -1 here. */
    private static long unchangedOr(long id) {
        long u = id & 0xFFFF_FFFFL;
        return u == 0xFFFF_FFFFL ? -1 : u;
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return calls.run("utimens", path, () -> {
            boolean given = timespec != null && timespec.length > 1;
            fs.setTimes(path, given ? FuseStructs.timeOf(timespec[0]) : Times.NOW,
                    given ? FuseStructs.timeOf(timespec[1]) : Times.NOW);
        });
    }

    @Override
    public int statfs(String path, Statvfs st) {
        return calls.call("statfs", path, () -> FuseStructs.fill(st, fs.space()));
    }
}
