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
    private static final boolean LONG_CAPACITY = CONSTRUCTOR != null && CONSTRUCTOR.getParameterTypes()[1] == long.class;

    private NativeBuffers() {
    }

    /** DirectByteBuffer(long address, int capacity) up to Java 20, (long, long) since; null when not accessible. */
    private static Constructor<?> find() {
        try {
            Class<?> c = Class.forName("java.nio.DirectByteBuffer");
            Constructor<?> k;
            try {
                k = c.getDeclaredConstructor(long.class, int.class);
            } catch (NoSuchMethodException e) {
                k = c.getDeclaredConstructor(long.class, long.class);
            }
            k.setAccessible(true);
            return k;
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
            return (ByteBuffer) (LONG_CAPACITY ? CONSTRUCTOR.newInstance(address, (long) length)
                    : CONSTRUCTOR.newInstance(address, length));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot view native memory as a ByteBuffer", e);
        }
    }
}
