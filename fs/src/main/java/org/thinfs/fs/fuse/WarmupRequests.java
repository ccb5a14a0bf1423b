package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

import java.nio.ByteBuffer;

/**
 * How the warm-up reaches a scratch file system: as the kernel's requests do. Each call lays a request out in native
 * memory the way {@code /dev/fuse} hands it over (RawRequests' layouts) and gives it to the same {@link RawRequests}
 * code a FUSE worker runs, answered by a {@link ThinFuse} over the scratch pool; replies go to {@code /dev/null}.
 * So the request loop's own code and its native write are compiled before the first real request, not only the
 * engine under it. Where native memory cannot be viewed in place (no --add-opens, see {@link NativeBuffers}), the
 * calls go straight to ThinFuse's handle methods: such a mount serves data through libfuse2's callbacks instead,
 * which then run cold, but the engine under both is warmed all the same.
 */
final class WarmupRequests implements AutoCloseable {
    private static final int O_WRONLY = 1;
    private static final int CAPACITY = (1 << 20) + 4096;
    /** Enough calls for the JIT to compile a method (a few hundred). */
    private static final int LOOP_CALLS = 1000;

    /** libc calls for the sink the replies go to. */
    public interface Libc {
        int open(String path, int flags);

        int close(int fd);
    }

    private static final class Lib {
        static final Libc C = LibraryLoader.create(Libc.class).failImmediately().load("c");
    }

    private final ThinFuse fuse;
    private final RawRequests.Answers answers;
    private final Pointer mem;
    private final Pointer reply;
    /** A worker's {@code struct fuse_buf} and channel pointer, filled before each request as a worker fills its own. */
    private final Pointer fuseBuf;
    private final Pointer chp;
    private final ByteBuffer direct;
    private final int sink;
    private final RawRequests raw;
    private long unique = 1;

    WarmupRequests(ThinFuse fuse) {
        this.fuse = fuse;
        this.answers = fuse.rawAnswers();
        Runtime rt = Runtime.getSystemRuntime();
        this.mem = Memory.allocateDirect(rt, CAPACITY, true);
        this.reply = Memory.allocateDirect(rt, RawRequests.REPLY_ROOM, true);
        this.fuseBuf = Memory.allocateDirect(rt, 64, true);
        this.chp = Memory.allocateDirect(rt, rt.addressSize(), true);
        int fd = NativeBuffers.available() ? Lib.C.open("/dev/null", O_WRONLY) : -1;
        this.sink = fd;
        this.raw = fd >= 0 ? new RawRequests(fd, answers) : null;
        this.direct = raw == null ? ByteBuffer.allocateDirect(1 << 20) : null;
        // What a worker does around each request, run here on its own: called from the requests below, these would
        // be inlined into their compiled callers and never compiled for the worker loop, which calls them.
        for (int i = 0; i < LOOP_CALLS; i++) {
            PinnedThreadsFuseFS.armReceive(fuseBuf, chp, mem, CAPACITY, mem);
            PinnedThreadsFuseFS.noteRequestNode(mem);
        }
    }

    /** Writes {@code size} bytes of {@code bytes} at {@code offset}, the first 8 replaced by {@code stamp}. */
    void write(long fh, long offset, byte[] bytes, int size, long stamp) {
        if (raw == null) {
            direct.clear();
            direct.put(bytes, 0, size).flip();
            direct.putLong(0, stamp);
            answers.write(fh, offset, direct);
            return;
        }
        int at = RawRequests.IN_HEADER + RawRequests.IO_IN;
        mem.put(at, bytes, 0, size);
        mem.putLong(at, stamp);
        send(RawRequests.FUSE_WRITE, at + size, fh, offset, size);
    }

    void read(long fh, long offset, int size) {
        if (raw == null) {
            direct.clear().limit(size);
            answers.read(fh, offset, direct);
            return;
        }
        send(RawRequests.FUSE_READ, RawRequests.IN_HEADER + RawRequests.IO_IN, fh, offset, size);
    }

    void fallocate(long fh, int mode, long offset, long length) {
        if (raw == null) {
            answers.fallocate(fh, mode, offset, length);
            return;
        }
        mem.putLong(RawRequests.IN_HEADER + 16, length);
        mem.putLong(RawRequests.IN_HEADER + 24, mode);
        request(RawRequests.FUSE_FALLOCATE, RawRequests.IN_HEADER + 32, fh, offset);
    }

    void fsync(long fh, boolean dataOnly) {
        if (raw == null) {
            answers.fsync(fh, dataOnly);
            return;
        }
        // fuse_fsync_in: fh, then fsync_flags and padding where the other requests have their offset
        request(RawRequests.FUSE_FSYNC, RawRequests.IN_HEADER + 16, fh, dataOnly ? 1 : 0);
    }

    void seek(long fh, long offset, int whence) {
        if (raw == null) {
            answers.seek(fh, offset, whence);
            return;
        }
        mem.putLong(RawRequests.IN_HEADER + 16, whence);
        request(RawRequests.FUSE_LSEEK, RawRequests.IN_HEADER + 24, fh, offset);
    }

    /** fuse_read_in / fuse_write_in: fh, offset, size (u32), flags, lock owner, flags, padding. */
    private void send(int opcode, int length, long fh, long offset, int size) {
        mem.putLong(RawRequests.IN_HEADER + 16, size & 0xFFFF_FFFFL);
        mem.putLong(RawRequests.IN_HEADER + 24, 0);
        mem.putLong(RawRequests.IN_HEADER + 32, 0);
        request(opcode, length, fh, offset);
    }

    private void request(int opcode, int length, long fh, long offset) {
        mem.putInt(0, length);
        mem.putInt(4, opcode);
        mem.putLong(8, unique++);
        mem.putLong(16, 0);                         // nodeid: the adopted handles know theirs
        mem.putLong(RawRequests.IN_HEADER, fh);
        mem.putLong(RawRequests.IN_HEADER + 8, offset);
        raw.answer(mem, length, CAPACITY, reply);
    }

    /** The file system the requests reach (its handles are adopted there). */
    ThinFuse fuse() {
        return fuse;
    }

    @Override
    public void close() {
        if (sink >= 0) {
            Lib.C.close(sink);
        }
        // The requests' native memory lives as long as this object, which is used till here.
        java.lang.ref.Reference.reachabilityFence(mem);
        java.lang.ref.Reference.reachabilityFence(reply);
        java.lang.ref.Reference.reachabilityFence(fuseBuf);
        java.lang.ref.Reference.reachabilityFence(chp);
    }
}
