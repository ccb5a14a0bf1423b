package org.thinfs.fs.fuse;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeBuffersTest {
    @Test
    void aViewReadsAndWritesTheNativeMemoryItWraps() throws Exception {
        assertTrue(NativeBuffers.available(), "the tests run with --add-opens, as the jar does");
        ByteBuffer owner = ByteBuffer.allocateDirect(8192);
        Field address = Buffer.class.getDeclaredField("address");
        address.setAccessible(true);
        long at = address.getLong(owner) + 100;

        ByteBuffer view = NativeBuffers.wrap(at, 4000);
        assertEquals(0, view.position());
        assertEquals(4000, view.limit());
        assertEquals(4000, view.capacity());
        assertTrue(view.isDirect());
        view.putLong(0, 0x1122334455667788L);
        view.put(3999, (byte) 7);
        assertEquals(0x1122334455667788L, owner.getLong(100), "a write through the view lands in the memory");
        assertEquals(7, owner.get(4099));
        owner.put(200, (byte) 42);
        assertEquals(42, view.get(100), "and the view sees the memory's bytes");
    }
}
