package org.thinfs.fs.nbd;

import org.junit.jupiter.api.Test;
import org.thinfs.core.io.AlignedBuffers;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

class PayloadBuffersTest {
    @Test
    void aRequestGetsThePageAlignedBufferTheLastRequestOfItsSizeGaveBack() {
        PayloadBuffers buffers = new PayloadBuffers();
        ByteBuffer first = buffers.acquire(1 << 20);
        ByteBuffer second = buffers.acquire(1 << 20);
        assertNotSame(first, second);
        for (ByteBuffer b : new ByteBuffer[] {first, second, buffers.acquire(5000), buffers.acquire(9 << 20)}) {
            assertEquals(0, b.alignmentOffset(0, AlignedBuffers.PAGE), "payloads start on a page boundary");
        }
        buffers.release(first);
        buffers.release(second);
        ByteBuffer next = buffers.acquire(700_000);
        assertSame(second, next, "last in, first out");
        assertEquals(0, next.position());
        assertEquals(700_000, next.limit());
        assertSame(first, buffers.acquire(1 << 20));
    }
}
