package org.thinfs.fs.fuse;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitReplyTest {
    private static final int ASYNC_READ = 1;
    private static final int BIG_WRITES = 1 << 5;

    /** libfuse2's reply: out header, then the 24-byte fuse_init_out of protocol 7.19. */
    private static byte[] libfuse2Reply(int error) {
        ByteBuffer b = ByteBuffer.allocate(16 + 24).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(40).putInt(error).putLong(0x1234L);
        b.putInt(7).putInt(19).putInt(131072).putInt(ASYNC_READ | BIG_WRITES);
        b.putShort((short) 12).putShort((short) 9).putInt(131072);
        return b.array();
    }

    private static ByteBuffer initRequest(int minor, int flags) {
        ByteBuffer b = ByteBuffer.allocate(40 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(56).putInt(InitReply.FUSE_INIT).putLong(1).putLong(0).putInt(0).putInt(0).putInt(0).putInt(0);
        b.putInt(7).putInt(minor).putInt(131072).putInt(flags);
        return b;
    }

    @Test
    void amendedReplyAllowsLargeRequestsAndKeepsEverythingElse() {
        byte[] out = InitReply.allowLargeRequests(libfuse2Reply(0), 1 << 20);
        ByteBuffer o = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(16 + 64, out.length);
        assertEquals(out.length, o.getInt(0), "out header length follows the new body");
        assertEquals(0x1234L, o.getLong(8), "same unique");
        assertEquals(7, o.getInt(16));
        assertEquals(19, o.getInt(20), "libfuse2's minor is kept");
        assertEquals(131072, o.getInt(24));
        assertEquals(ASYNC_READ | BIG_WRITES | InitReply.FUSE_MAX_PAGES, o.getInt(28));
        assertEquals(12, o.getShort(32));
        assertEquals(9, o.getShort(34));
        assertEquals(1 << 20, o.getInt(36));
        assertEquals(0, o.getInt(40), "time_gran untouched");
        assertEquals(256, o.getShort(44), "max_pages");
        for (int i = 46; i < out.length; i++) {
            assertEquals(0, out[i], "byte " + i);
        }
        assertEquals(64, ByteBuffer.wrap(InitReply.allowLargeRequests(libfuse2Reply(0), 256 * 1024))
                .order(ByteOrder.LITTLE_ENDIAN).getShort(44));
    }

    @Test
    void errorRepliesAndBadSizesAreLeftAlone() {
        byte[] error = libfuse2Reply(-71);
        assertSame(error, InitReply.allowLargeRequests(error, 1 << 20));
        byte[] shortBody = new byte[16 + 8];
        assertSame(shortBody, InitReply.allowLargeRequests(shortBody, 1 << 20));
        assertThrows(IllegalArgumentException.class, () -> InitReply.allowLargeRequests(libfuse2Reply(0), 2 << 20));
        assertThrows(IllegalArgumentException.class, () -> InitReply.allowLargeRequests(libfuse2Reply(0), 65536));
        assertThrows(IllegalArgumentException.class, () -> InitReply.allowLargeRequests(libfuse2Reply(0), 200_000));
    }

    @Test
    void onlyAKernelOfferingMaxPagesGetsIt() {
        assertTrue(InitReply.kernelOffersMaxPages(initRequest(28, InitReply.FUSE_MAX_PAGES)));
        assertTrue(InitReply.kernelOffersMaxPages(initRequest(44, InitReply.FUSE_MAX_PAGES | ASYNC_READ)));
        assertFalse(InitReply.kernelOffersMaxPages(initRequest(27, InitReply.FUSE_MAX_PAGES)), "before Linux 4.20");
        assertFalse(InitReply.kernelOffersMaxPages(initRequest(31, ASYNC_READ)));
    }

    @Test
    void readaheadFindsTheNewestMountOfAPath() {
        List<String> mountinfo = List.of(
                "22 1 0:21 / /proc rw,nosuid - proc proc rw",
                "90 22 0:48 / /tmp/a\\040b rw - fuse.thinfs thinfs:/p rw,user_id=0",
                "95 22 0:52 / /tmp/a\\040b rw - fuse.thinfs thinfs:/q rw,user_id=0",
                "96 22 0:53 / /tmp/c rw - fuse.thinfs thinfs:/r rw,user_id=0");
        assertEquals("0:52", BdiReadahead.deviceOf(mountinfo, "/tmp/a b"));
        assertEquals("0:53", BdiReadahead.deviceOf(mountinfo, "/tmp/c"));
        assertNull(BdiReadahead.deviceOf(mountinfo, "/tmp/d"));
    }
}
