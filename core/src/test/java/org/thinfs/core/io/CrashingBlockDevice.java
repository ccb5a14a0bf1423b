package org.thinfs.core.io;

import org.thinfs.core.format.Layout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Simulates a crash at the N-th write (counting from 1) to the wrapped device, in one of three ways:
 * <ul>
 *   <li>{@link Mode#STOP}: the process dies just before write N; nothing of it lands;</li>
 *   <li>{@link Mode#TORN}: write N lands only in its first {@code tornSectors} 512-byte sectors;</li>
 *   <li>{@link Mode#POWER_CUT}: writes since the last flush were still in a volatile cache; a random subset of
 *       them, in random order, reaches the medium (some of them torn), then power fails.</li>
 * </ul>
 * After the crash every call throws {@link Crash}, so the code under test stops where it stands.
 */
public final class CrashingBlockDevice implements BlockDevice {
    public enum Mode { STOP, TORN, POWER_CUT }

    /** Thrown at and after the simulated crash. */
    public static final class Crash extends RuntimeException {
        Crash() {
            super("simulated crash");
        }
    }

    private final BlockDevice inner;
    private final long crashAt;
    private final Mode mode;
    private final Random random;
    private final int tornSectors;
    /** Writes since the last flush, in order, for POWER_CUT (latest content per block). */
    private final Map<Long, byte[]> volatileCache = new LinkedHashMap<>();
    private long writes;
    private boolean crashed;
    /** Blocks that did reach the medium in the crash step (for assertions). */
    private final List<Long> landedInCrash = new ArrayList<>();

    public CrashingBlockDevice(BlockDevice inner, long crashAt, Mode mode, long seed) {
        this.inner = inner;
        this.crashAt = crashAt;
        this.mode = mode;
        this.random = new Random(seed);
        this.tornSectors = random.nextInt(Layout.BLOCK_SIZE / 512);
    }

    public long writes() {
        return writes;
    }

    public boolean crashed() {
        return crashed;
    }

    public int tornSectors() {
        return tornSectors;
    }

    public List<Long> landedInCrash() {
        return landedInCrash;
    }

    @Override
    public long nrBlocks() throws IOException {
        check();
        return inner.nrBlocks();
    }

    @Override
    public void read(long nr, ByteBuffer dst) throws IOException {
        check();
        byte[] pending = volatileCache.get(nr);
        if (pending != null) {
            dst.put(pending);
            return;
        }
        inner.read(nr, dst);
    }

    @Override
    public void write(long nr, ByteBuffer src) throws IOException {
        check();
        writes++;
        byte[] data = new byte[Layout.BLOCK_SIZE];
        src.get(data);
        if (writes == crashAt) {
            crash(nr, data);
        }
        if (mode == Mode.POWER_CUT) {
            volatileCache.remove(nr);
            volatileCache.put(nr, data);
        } else {
            inner.write(nr, ByteBuffer.wrap(data));
        }
    }

    private void crash(long nr, byte[] data) throws IOException {
        crashed = true;
        switch (mode) {
            case STOP -> { }
            case TORN -> {
                writeSectors(nr, data, tornSectors);
                landedInCrash.add(nr);
            }
            case POWER_CUT -> {
                volatileCache.remove(nr);
                volatileCache.put(nr, data);
                List<Map.Entry<Long, byte[]>> pending = new ArrayList<>(volatileCache.entrySet());
                java.util.Collections.shuffle(pending, random);
                for (Map.Entry<Long, byte[]> e : pending) {
                    int choice = random.nextInt(4);
                    if (choice == 0) {
                        continue; // lost
                    }
                    int sectors = choice == 1 ? random.nextInt(Layout.BLOCK_SIZE / 512) : Layout.BLOCK_SIZE / 512;
                    writeSectors(e.getKey(), e.getValue(), sectors);
                    if (sectors > 0) {
                        landedInCrash.add(e.getKey());
                    }
                }
                volatileCache.clear();
            }
        }
        throw new Crash();
    }

    /** Writes only the first {@code sectors} sectors of {@code data}; the rest of the block keeps its old bytes. */
    private void writeSectors(long nr, byte[] data, int sectors) throws IOException {
        if (sectors == 0) {
            return;
        }
        ByteBuffer old = ByteBuffer.allocate(Layout.BLOCK_SIZE);
        inner.read(nr, old);
        byte[] merged = old.array();
        System.arraycopy(data, 0, merged, 0, sectors * 512);
        inner.write(nr, ByteBuffer.wrap(merged));
    }

    @Override
    public void flush() throws IOException {
        check();
        for (Map.Entry<Long, byte[]> e : volatileCache.entrySet()) {
            inner.write(e.getKey(), ByteBuffer.wrap(e.getValue()));
        }
        volatileCache.clear();
        inner.flush();
    }

    private void check() {
        if (crashed) {
            throw new Crash();
        }
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
