package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The splice receive, fed requests laid out as /dev/fuse hands them over (one file per request, since a file, unlike
 * /dev/fuse, is a stream): a large write leaves its payload in the pipe for the data file, anything else is read into
 * the buffer whole, and whatever happens the pipe is empty before the next request.
 */
class SpliceReceiverTest {
    private static final long BUF = (1 << 20) + 8192;

    @TempDir
    Path dir;

    public interface Libc {
        int open(String path, int flags);

        int close(int fd);
    }

    private static final Libc C = LibraryLoader.create(Libc.class).load("c");

    /** A request: fuse_in_header, then {@code body}. */
    private static byte[] request(int opcode, long unique, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(RawRequests.IN_HEADER + body.length).order(ByteOrder.nativeOrder());
        b.putInt(b.capacity()).putInt(opcode).putLong(unique).putLong(1).putInt(0).putInt(0).putInt(0).putInt(0);
        return b.put(body).array();
    }

    /** A FUSE_WRITE of {@code payload} at {@code offset}: fuse_write_in, then the bytes. */
    private static byte[] write(long unique, long offset, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(RawRequests.IO_IN + payload.length).order(ByteOrder.nativeOrder());
        b.putLong(7).putLong(offset).putInt(payload.length).putInt(0).putLong(0).putInt(0).putInt(0);
        return request(RawRequests.FUSE_WRITE, unique, b.put(payload).array());
    }

    private int feed(String name, byte[] request) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, request);
        return C.open(f.toString(), 0);
    }

    @Test
    void aLargeWriteStaysInThePipeAndEverythingElseIsReadWhole() throws Exception {
        Path data = Files.createFile(dir.resolve("data"));
        SpliceReceiver.allowPipesOf(SpliceReceiver.pipeBytes(BUF));
        SpliceReceiver.Target target = SpliceReceiver.Target.open(data);
        assumeTrue(target != null, "no splice target");
        Random rnd = new Random(11);
        byte[] payload = new byte[1 << 20];
        rnd.nextBytes(payload);
        Pointer mem = Memory.allocateDirect(Runtime.getSystemRuntime(), (int) BUF);

        int writeFd = feed("write", write(5, 4096, payload));
        SpliceReceiver r = SpliceReceiver.create(writeFd, target, BUF);
        assumeTrue(r != null, "pipes of " + SpliceReceiver.pipeBytes(BUF) + " bytes not allowed here");
        try {
            assertEquals(RawRequests.IN_HEADER + RawRequests.IO_IN + payload.length, r.receive(mem, BUF));
            assertEquals(RawRequests.FUSE_WRITE, mem.getInt(4));
            assertEquals(5, mem.getLong(8));
            assertEquals(payload.length, r.pending(), "the payload waits in the pipe");
            r.moveTo(3 * 65536, 300_000);                   // two runs, as two runs of data blocks
            r.moveTo(8 * 65536, payload.length - 300_000);
            assertEquals(0, r.pending());
            byte[] file = Files.readAllBytes(data);
            assertArrayEquals(Arrays.copyOfRange(payload, 0, 300_000), Arrays.copyOfRange(file, 3 * 65536,
                    3 * 65536 + 300_000));
            assertArrayEquals(Arrays.copyOfRange(payload, 300_000, payload.length), Arrays.copyOfRange(file,
                    8 * 65536, 8 * 65536 + payload.length - 300_000));
        } finally {
            r.close();
            C.close(writeFd);
        }

        // A small write and a request of another kind: read whole, nothing left behind.
        byte[] small = Arrays.copyOf(payload, 4096);
        for (byte[] req : new byte[][]{write(6, 0, small), request(3, 7, new byte[16])}) {
            int fd = feed("small", req);
            SpliceReceiver s = SpliceReceiver.create(fd, target, BUF);
            try {
                assertEquals(req.length, s.receive(mem, BUF));
                assertEquals(0, s.pending());
                byte[] got = new byte[req.length];
                mem.get(0, got, 0, got.length);
                assertArrayEquals(req, got);
            } finally {
                s.close();
                C.close(fd);
            }
        }

        // A large write that fails part way: the rest is dropped, and the pipe takes the next request cleanly.
        int fd = feed("failed", write(8, 0, payload));
        SpliceReceiver f = SpliceReceiver.create(fd, target, BUF);
        try {
            f.receive(mem, BUF);
            f.moveTo(0, 65536);
            f.discardRest();
            assertEquals(0, f.pending());
        } finally {
            f.close();
            C.close(fd);
            target.close();
        }
    }
}
