package org.thinfs.fs.fuse;

import java.lang.reflect.Constructor;
import java.nio.ByteBuffer;

/**
 * Views native memory (a FUSE request buffer) as a direct ByteBuffer, so a FileChannel moves bytes between the page
 * cache and FUSE's buffer with no copy through the Java heap. Needs {@code --add-opens java.base/java.nio=ALL-UNNAMED}
 * (the thinfs jar's manifest grants it); without it, {@link #available()} is false and callers copy.
 */
public final class NativeBuffers {
    private static final Constructor<?> CONSTRUCTOR = find();

    private NativeBuffers() {
    }

    private static Constructor<?> find() {
        try {
            Constructor<?> c = Class.forName("java.nio.DirectByteBuffer").getDeclaredConstructor(long.class, int.class);
            c.setAccessible(true);
            return c;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    public static boolean available() {
        return CONSTRUCTOR != null;
    }

    /** A buffer over {@code length} bytes at native {@code address}; valid only while the native memory is. */
    public static ByteBuffer wrap(long address, int length) {
        try {
            return (ByteBuffer) CONSTRUCTOR.newInstance(address, length);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot view native memory as a ByteBuffer", e);
        }
    }
}
