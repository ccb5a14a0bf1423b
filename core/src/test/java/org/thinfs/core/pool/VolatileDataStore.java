package org.thinfs.core.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A data store with a volatile write cache: writes since the last {@link #flush()} are held back (reads see them),
 * and {@link #powerCut(Random)} lands a random subset of them, in random order, some torn at a 512-byte sector,
 * then forgets the rest, as a disk losing power does.
 */
final class VolatileDataStore implements DataStore {
    private record Pending(long pos, byte[] bytes) {
    }

    private final DataStore inner;
    private final List<Pending> pending = new ArrayList<>();

    VolatileDataStore(DataStore inner) {
        this.inner = inner;
    }

    @Override
    public synchronized long size() {
        return inner.size();
    }

    @Override
    public synchronized void ensureSize(long bytes) {
        inner.ensureSize(bytes);
    }

    @Override
    public synchronized void read(long pos, ByteBuffer dst) {
        int start = dst.position();
        int len = dst.remaining();
        inner.read(pos, dst);
        for (Pending p : pending) {
            long from = Math.max(pos, p.pos);
            long to = Math.min(pos + len, p.pos + p.bytes.length);
            for (long x = from; x < to; x++) {
                dst.put(start + (int) (x - pos), p.bytes[(int) (x - p.pos)]);
            }
        }
    }

    @Override
    public synchronized void write(long pos, ByteBuffer src) {
        byte[] b = new byte[src.remaining()];
        src.get(b);
        pending.add(new Pending(pos, b));
    }

    /** What is held back: a commit that finds little of it leaves it to its flush under the gate (Committer). */
    @Override
    public synchronized long unflushedBytes() {
        long n = 0;
        for (Pending p : pending) {
            n += p.bytes.length;
        }
        return n;
    }

    @Override
    public synchronized void flush() {
        for (Pending p : pending) {
            inner.write(p.pos, ByteBuffer.wrap(p.bytes));
        }
        pending.clear();
        inner.flush();
    }

    /** The power fails: some unflushed writes land (whole, or a sector-aligned prefix), the rest are lost. */
    synchronized void powerCut(Random rnd) {
        List<Pending> order = new ArrayList<>(pending);
        java.util.Collections.shuffle(order, rnd);
        for (Pending p : order) {
            int choice = rnd.nextInt(3);
            int len = choice == 0 ? 0 : choice == 1 ? p.bytes.length : (int) Math.min(p.bytes.length,
                    512L * rnd.nextInt(1 + p.bytes.length / 512));
            if (len > 0) {
                inner.write(p.pos, ByteBuffer.wrap(p.bytes, 0, len));
            }
        }
        pending.clear();
        inner.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        inner.close();
    }
}
