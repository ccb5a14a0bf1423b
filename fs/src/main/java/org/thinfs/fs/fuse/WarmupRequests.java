package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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

    /** A spliced write's room: a 512 KiB write (what a loop device sends) fits a pipe of the default 1 MiB limit. */
    private static final int SPLICE_CAPACITY = (512 << 10) + 4096;

    /** libc calls for the sink the replies go to, and the file the spliced writes come from. */
    public interface Libc {
        int open(String path, int flags);

        int close(int fd);

        long lseek(int fd, long offset, int whence);
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
    /** Where spliced writes come from: a file holding one request at a time (/dev/fuse gives one per read). */
    private final Path spliceRequest;
    private final FileChannel spliceRequestChannel;
    private final int spliceRequestFd;
    private final SpliceReceiver.Target spliceTarget;
    private final SpliceReceiver splice;
    private final ByteBuffer spliceBytes;
    private long unique = 1;

    /**
     * Requests to {@code fuse}; with {@code scratchDir} and {@code dataFile} (or null: none), large writes also come
     * by splice, as a mount's workers take them ({@link SpliceReceiver#next}), moved into {@code dataFile}.
     */
    WarmupRequests(ThinFuse fuse, Path scratchDir, Path dataFile) throws IOException {
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
            FuseWorker.armReceive(fuseBuf, chp, mem, CAPACITY, mem);
            FuseWorker.noteRequestNode(mem);
        }
        SpliceReceiver.Target target = raw == null || scratchDir == null ? null : SpliceReceiver.Target.open(dataFile);
        int requestFd = -1;
        SpliceReceiver receiver = null;
        if (target != null) {
            spliceRequest = scratchDir.resolve("spliced-request");
            spliceRequestChannel = FileChannel.open(spliceRequest, StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
            requestFd = Lib.C.open(spliceRequest.toString(), 0);
            receiver = requestFd < 0 ? null : SpliceReceiver.create(requestFd, target, SPLICE_CAPACITY);
        } else {
            spliceRequest = null;
            spliceRequestChannel = null;
        }
        this.spliceRequestFd = requestFd;
        this.spliceTarget = target;
        this.splice = receiver;
        this.spliceBytes = receiver == null ? null
                : ByteBuffer.allocateDirect(SPLICE_CAPACITY).order(ByteOrder.nativeOrder());
    }

    /**
     * A write of {@code size} bytes (at most 512 KiB) taken the way a worker takes one by splice: answered with its
     * payload spliced into the data file when the pool makes it in place, else read into memory and answered as any
     * write. Without splicing, as {@link #write}.
     */
    void splicedWrite(long fh, long offset, byte[] bytes, int size, long stamp) throws IOException {
        int head = RawRequests.IN_HEADER + RawRequests.IO_IN;
        if (splice == null || head + size > SPLICE_CAPACITY) {
            write(fh, offset, bytes, size, stamp);
            return;
        }
        ByteBuffer b = spliceBytes.clear();
        // fuse_in_header, then fuse_write_in (fh, offset, size, write flags, lock owner, flags, padding), then bytes
        b.putInt(head + size).putInt(RawRequests.FUSE_WRITE).putLong(unique++).putLong(0).putLong(0).putLong(0);
        b.putLong(fh).putLong(offset).putInt(size).putInt(0).putLong(0).putInt(0).putInt(0);
        b.putLong(stamp).put(bytes, 8, size - 8).flip();
        spliceRequestChannel.truncate(0);
        while (b.hasRemaining()) {
            spliceRequestChannel.write(b, b.position());    // the file's offset is the buffer's
        }
        Lib.C.lseek(spliceRequestFd, 0, 0);
        int length = splice.next(raw, mem, SPLICE_CAPACITY, reply);
        if (length > 0) {
            raw.answer(mem, length, SPLICE_CAPACITY, reply);
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
    public void close() throws IOException {
        if (splice != null) {
            splice.close();
        }
        if (spliceRequestFd >= 0) {
            Lib.C.close(spliceRequestFd);
        }
        if (spliceTarget != null) {
            spliceTarget.close();
        }
        if (spliceRequestChannel != null) {
            spliceRequestChannel.close();
            Files.deleteIfExists(spliceRequest);
        }
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
