package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request loop's own answers, byte for byte: requests are laid out in native memory as the kernel lays them out
 * (include/uapi/linux/fuse.h), and the replies are read back from a pipe standing in for /dev/fuse.
 */
class RawRequestsTest {
    public interface Libc {
        int pipe(int[] fds);

        long read(int fd, byte[] buf, long count);

        int close(int fd);
    }

    private static final Libc C = LibraryLoader.create(Libc.class).load("c");
    private static final long CAPACITY = 4096;
    private final Runtime rt = Runtime.getSystemRuntime();
    private final int[] pipe = new int[2];
    private final Pointer mem = Memory.allocateDirect(rt, (int) CAPACITY, true);
    private final Pointer reply = Memory.allocateDirect(rt, RawRequests.REPLY_ROOM, true);
    private final List<String> calls = new ArrayList<>();
    private boolean servesData = true;
    private RuntimeException failure;

    private final RawRequests.Answers answers = new RawRequests.Answers() {
        @Override
        public long seek(long fh, long offset, int whence) {
            calls.add("seek " + fh + " " + offset + " " + whence);
            return offset + 100;
        }

        @Override
        public long copy(long fhIn, long offIn, long fhOut, long offOut, long len, long flags) {
            calls.add("copy " + fhIn + " " + offIn + " " + fhOut + " " + offOut + " " + len);
            return len;
        }

        @Override
        public boolean servesData() {
            return servesData;
        }

        @Override
        public int read(long fh, long offset, ByteBuffer dst) {
            calls.add("read " + fh + " " + offset + " " + dst.remaining());
            if (failure != null) {
                throw failure;
            }
            int n = Math.min(dst.remaining(), 60);
            for (int i = 0; i < n; i++) {
                dst.put((byte) ('a' + i % 26));
            }
            return n;
        }

        @Override
        public int write(long fh, long offset, ByteBuffer src) {
            byte[] b = new byte[src.remaining()];
            src.get(b);
            calls.add("write " + fh + " " + offset + " " + new String(b));
            return b.length;
        }

        @Override
        public int fallocate(long fh, int mode, long offset, long length) {
            calls.add("fallocate " + fh + " " + mode + " " + offset + " " + length);
            return -28;
        }

        @Override
        public int fsync(long fh, boolean dataOnly) {
            calls.add("fsync " + fh + " " + dataOnly);
            return fh == 13 ? -5 : 0;
        }
    };

    @BeforeEach
    void openPipe() {
        assertEquals(0, C.pipe(pipe));
    }

    @AfterEach
    void closePipe() {
        C.close(pipe[0]);
        C.close(pipe[1]);
    }

    private RawRequests raw() {
        return new RawRequests(pipe[1], answers);
    }

    /** fuse_in_header and the first words of the body; returns the request's length. */
    private int request(int opcode, long unique, int length, long... body) {
        mem.putInt(0, length);
        mem.putInt(4, opcode);
        mem.putLong(8, unique);
        mem.putLong(16, 99);                                    // nodeid
        for (int i = 0; i < body.length; i++) {
            mem.putLong(RawRequests.IN_HEADER + 8L * i, body[i]);
        }
        return length;
    }

    private ByteBuffer replyRead() {
        byte[] b = new byte[8192];
        long n = C.read(pipe[0], b, b.length);
        return ByteBuffer.wrap(Arrays.copyOf(b, (int) n)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** fuse_read_in: fh, offset, then size (u32) in the low half of the third word. */
    @Test
    void readRepliesWithTheBytesRightAfterTheHeader() {
        int len = request(RawRequests.FUSE_READ, 41, 80, 7, 4096, 100);
        assertTrue(raw().answer(mem, len, CAPACITY, reply));
        assertEquals(List.of("read 7 4096 100"), calls);
        ByteBuffer r = replyRead();
        assertEquals(16 + 60, r.remaining());
        assertEquals(16 + 60, r.getInt());
        assertEquals(0, r.getInt());
        assertEquals(41, r.getLong());
        byte[] data = new byte[60];
        r.get(data);
        assertEquals("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh", new String(data));
    }

    @Test
    void aReadLargerThanTheBufferIsLeftToLibfuse() {
        int len = request(RawRequests.FUSE_READ, 42, 80, 7, 0, CAPACITY - 15);
        assertFalse(raw().answer(mem, len, CAPACITY, reply));
        assertEquals(List.of(), calls);
    }

    @Test
    void aFailingAnswerStillGetsAReply() {
        failure = new IllegalStateException("a bug");
        int len = request(RawRequests.FUSE_READ, 43, 80, 7, 0, 10);
        assertTrue(raw().answer(mem, len, CAPACITY, reply));
        ByteBuffer r = replyRead();
        assertEquals(16, r.getInt());
        assertEquals(-5, r.getInt());                           // EIO
        assertEquals(43, r.getLong());
        assertFalse(r.hasRemaining());
    }

    /** fuse_write_in is 40 bytes; the data follows it. */
    @Test
    void writeHandsOverTheBytesWhereTheKernelPutThem() {
        byte[] data = "hello, volume".getBytes();
        mem.put(RawRequests.IN_HEADER + RawRequests.IO_IN, data, 0, data.length);
        int len = request(RawRequests.FUSE_WRITE, 44, 80 + data.length, 3, 65536, data.length);
        assertTrue(raw().answer(mem, len, CAPACITY, reply));
        assertEquals(List.of("write 3 65536 hello, volume"), calls);
        ByteBuffer r = replyRead();
        assertEquals(24, r.getInt());
        assertEquals(0, r.getInt());
        assertEquals(44, r.getLong());
        assertEquals(data.length, r.getInt());                  // fuse_write_out.size
    }

    @Test
    void aWriteShorterThanItsSizeSaysIsLeftToLibfuse() {
        int len = request(RawRequests.FUSE_WRITE, 45, 80 + 10, 3, 0, 11);
        assertFalse(raw().answer(mem, len, CAPACITY, reply));
        assertEquals(List.of(), calls);
    }

    /** fuse_fallocate_in: fh, offset, length, mode (u32). */
    @Test
    void fallocateRepliesWithTheErrorAlone() {
        int len = request(RawRequests.FUSE_FALLOCATE, 46, 72, 5, 8192, 1 << 20, 0x10);
        assertTrue(raw().answer(mem, len, CAPACITY, reply));
        assertEquals(List.of("fallocate 5 16 8192 1048576"), calls);
        ByteBuffer r = replyRead();
        assertEquals(16, r.getInt());
        assertEquals(-28, r.getInt());
        assertEquals(46, r.getLong());
        assertFalse(r.hasRemaining());
    }

    /** fuse_fsync_in: fh, fsync_flags (u32; bit 0 = fdatasync), padding; the reply is the header alone. */
    @Test
    void fsyncTellsDataOnlyFromFullAndRepliesWithTheErrorAlone() {
        assertTrue(raw().answer(mem, request(RawRequests.FUSE_FSYNC, 50, 56, 12, 0), CAPACITY, reply));
        assertTrue(raw().answer(mem, request(RawRequests.FUSE_FSYNC, 51, 56, 12, 1), CAPACITY, reply));
        assertTrue(raw().answer(mem, request(RawRequests.FUSE_FSYNC, 52, 56, 13, 0), CAPACITY, reply));
        assertEquals(List.of("fsync 12 false", "fsync 12 true", "fsync 13 false"), calls);
        for (long unique = 50; unique <= 52; unique++) {
            ByteBuffer r = replyRead16();
            assertEquals(16, r.getInt());
            assertEquals(unique == 52 ? -5 : 0, r.getInt());
            assertEquals(unique, r.getLong());
        }
        assertFalse(raw().answer(mem, request(RawRequests.FUSE_FSYNC, 53, 48, 12), CAPACITY, reply),
                "a request too short for fuse_fsync_in is left to libfuse");
    }

    /** One 16-byte reply (replies sit back to back in the pipe). */
    private ByteBuffer replyRead16() {
        byte[] b = new byte[16];
        assertEquals(16, C.read(pipe[0], b, 16));
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void dataRequestsGoToLibfuseWhenTheFileSystemDoesNotServeThem() {
        servesData = false;
        RawRequests raw = raw();
        assertFalse(raw.answer(mem, request(RawRequests.FUSE_READ, 47, 80, 7, 0, 10), CAPACITY, reply));
        assertFalse(raw.answer(mem, request(RawRequests.FUSE_WRITE, 48, 81, 7, 0, 1), CAPACITY, reply));
        assertFalse(raw.answer(mem, request(RawRequests.FUSE_FALLOCATE, 49, 72, 7, 0, 1, 0), CAPACITY, reply));
        assertFalse(raw.answer(mem, request(RawRequests.FUSE_FSYNC, 49, 56, 7, 0), CAPACITY, reply));
        assertFalse(raw.answer(mem, request(1, 50, 40), CAPACITY, reply));     // LOOKUP: never ours
        assertEquals(List.of(), calls);
        // lseek is answered either way: libfuse2 does not know it.
        assertTrue(raw.answer(mem, request(RawRequests.FUSE_LSEEK, 51, 64, 7, 1000, 3), CAPACITY, reply));
        ByteBuffer r = replyRead();
        assertEquals(24, r.getInt());
        assertEquals(0, r.getInt());
        assertEquals(51, r.getLong());
        assertEquals(1100, r.getLong());
    }

    @Test
    void copyFileRangeRepliesWithTheSizeCopied() {
        int len = request(RawRequests.FUSE_COPY_FILE_RANGE, 52, 96, 1, 0, 99, 2, 4096, 65536, 0);
        assertTrue(raw().answer(mem, len, CAPACITY, reply));
        assertEquals(List.of("copy 1 0 2 4096 65536"), calls);
        ByteBuffer r = replyRead();
        assertEquals(24, r.getInt());
        assertEquals(0, r.getInt());
        assertEquals(52, r.getLong());
        assertEquals(65536, r.getInt());
    }
}
