package org.thinfs.core.pool;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simplest possible thin pool: each device is a sparse map of block-sized byte arrays. Arrays are treated as
 * immutable so a snapshot can share them; a write replaces the arrays it touches. With a base image, every device
 * reads an unmapped block from it (an external origin under all of them), and a discard brings it back.
 */
final class PoolModel {
    final int blockSize;
    final TreeMap<Long, Map<Long, byte[]>> devices = new TreeMap<>();
    /** What unmapped blocks read, from offset 0 (zeros past its end); null: zeros. */
    private final byte[] base;

    PoolModel(int blockSize) {
        this(blockSize, null);
    }

    PoolModel(int blockSize, byte[] base) {
        this.blockSize = blockSize;
        this.base = base;
    }

    /** What an unmapped block {@code vb} reads. */
    private byte[] unmapped(long vb) {
        byte[] b = new byte[blockSize];
        if (base != null && vb * blockSize < base.length) {
            System.arraycopy(base, (int) (vb * blockSize), b, 0, (int) Math.min(blockSize, base.length - vb * blockSize));
        }
        return b;
    }

    void create(long id) {
        devices.put(id, new HashMap<>());
    }

    void snapshot(long id, long origin) {
        devices.put(id, new HashMap<>(devices.get(origin)));
    }

    void delete(long id) {
        devices.remove(id);
    }

    void write(long id, long offset, byte[] src) {
        Map<Long, byte[]> dev = devices.get(id);
        int done = 0;
        while (done < src.length) {
            long pos = offset + done;
            long vb = pos / blockSize;
            int within = (int) (pos % blockSize);
            int len = Math.min(blockSize - within, src.length - done);
            byte[] old = dev.get(vb);
            byte[] copy = old == null ? unmapped(vb) : old.clone();
            System.arraycopy(src, done, copy, within, len);
            dev.put(vb, copy);
            done += len;
        }
    }

    /** Whole blocks inside the range are unmapped; partial edges read as unmapped blocks do (zeros, or the base). */
    void discard(long id, long offset, long length) {
        Map<Long, byte[]> dev = devices.get(id);
        long end = offset + length;
        for (long vb = offset / blockSize; vb * blockSize < end; vb++) {
            long bs = vb * blockSize;
            long from = Math.max(offset, bs);
            long to = Math.min(end, bs + blockSize);
            if (from == bs && to == bs + blockSize) {
                dev.remove(vb);
            } else if (dev.containsKey(vb)) {
                byte[] copy = dev.get(vb).clone();
                System.arraycopy(unmapped(vb), (int) (from - bs), copy, (int) (from - bs), (int) (to - from));
                dev.put(vb, copy);
            }
        }
    }

    byte[] read(long id, long offset, int length) {
        Map<Long, byte[]> dev = devices.get(id);
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            long pos = offset + done;
            long vb = pos / blockSize;
            int within = (int) (pos % blockSize);
            int len = Math.min(blockSize - within, length - done);
            byte[] b = dev.get(vb);
            if (b == null && base != null) {
                b = unmapped(vb);
            }
            if (b != null) {
                System.arraycopy(b, within, out, done, len);
            }
            done += len;
        }
        return out;
    }

    PoolModel copy() {
        PoolModel m = new PoolModel(blockSize, base);
        devices.forEach((id, dev) -> m.devices.put(id, new HashMap<>(dev)));
        return m;
    }
}
