package org.thinfs.core.io;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.StorageIOException;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A bounded cache of metadata blocks over a {@link BlockDevice}, with per-type validation.
 *
 * <p>Invariants: every block read from the device passed its validator before it entered the cache; a dirty block
 * is sealed (location, then checksum) immediately before it is written. A clean block's bytes equal the device's.
 *
 * <p>Eviction: dirty blocks leave only in {@link #trim()}, which callers invoke between whole metadata operations,
 * so a dirty {@link Block} an operation holds and changes is never replaced under it; evicting a dirty block
 * writes it, which is safe because the transaction manager only dirties blocks that are free in the committed
 * state. Clean blocks are also evicted during an operation, as soon as the cache passes its capacity by a slack,
 * so one operation that walks a huge tree (deleting a volume of 10 M mappings) stays within the bound. That is
 * safe because a clean block is never changed in place: changing one goes through {@code shadow}, which asks for
 * the block again by number, and a re-read returns the same bytes.
 *
 * <p>Thread-safety: all methods are synchronized; the metadata engine above serializes operations anyway.
 */
public final class BlockManager implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(BlockManager.class);

    private final BlockDevice device;
    private final int capacity;
    private final boolean writable;
    /** Access-ordered: the eldest entry is the least recently used. */
    private final LinkedHashMap<Long, Block> cache = new LinkedHashMap<>(1024, 0.75f, true);
    /**
     * The dirty blocks of {@link #cache}, in block order: a commit writes these without walking a cache of thousands
     * of clean blocks. A block is in here exactly while its dirty flag is set ({@link #setDirty}).
     */
    private final TreeMap<Long, Block> dirty = new TreeMap<>();
    /** Clean blocks beyond capacity are tolerated inside an operation up to this many cached blocks. */
    private final int slack;
    private int evictAbove;
    private long nrBlocks;

    public BlockManager(BlockDevice device, int capacityBlocks, boolean writable) {
        if (capacityBlocks < 64) {
            throw new IllegalArgumentException("cache must hold at least 64 blocks, got " + capacityBlocks);
        }
        this.device = device;
        this.capacity = capacityBlocks;
        this.slack = Math.max(64, capacityBlocks / 8);
        this.evictAbove = capacityBlocks + slack;
        this.writable = writable;
        try {
            this.nrBlocks = device.nrBlocks();
        } catch (IOException e) {
            throw StorageIOException.of("cannot size the metadata device " + device, e);
        }
    }

    public synchronized long nrBlocks() {
        return nrBlocks;
    }

    /** Re-reads the device size (after the metadata file was grown). */
    public synchronized long refreshSize() {
        try {
            nrBlocks = device.nrBlocks();
        } catch (IOException e) {
            throw StorageIOException.of("cannot size the metadata device " + device, e);
        }
        return nrBlocks;
    }

    public boolean isWritable() {
        return writable;
    }

    /** Returns block {@code nr}, reading and validating it if it is not cached. */
    public synchronized Block read(long nr, BlockValidator validator) {
        Block b = cache.get(nr);
        if (b != null) {
            if (b.validator() != validator && !b.isDirty()) {
                validator.check(b.data(), nr);
                b.setValidator(validator);
            }
            return b;
        }
        checkBounds(nr);
        b = new Block(nr, validator);
        try {
            device.read(nr, b.data().clear());
        } catch (IOException e) {
            throw StorageIOException.of("cannot read metadata block " + nr, e);
        }
        validator.check(b.data(), nr);
        cache.put(nr, b);
        if (cache.size() > evictAbove) {
            evictClean(nr);
        }
        return b;
    }

    /**
     * Drops least recently used clean blocks (never {@code keep}) until the cache is back at its capacity, then
     * lets it grow by a slack before the next scan; when dirty blocks alone fill it, the scan cannot get there, and
     * the slack counts from where it stopped, so a cache miss never rescans the whole cache.
     */
    private void evictClean(long keep) {
        Iterator<Map.Entry<Long, Block>> it = cache.entrySet().iterator();
        while (cache.size() > capacity && it.hasNext()) {
            Map.Entry<Long, Block> e = it.next();
            if (!e.getValue().isDirty() && e.getKey() != keep) {
                it.remove();
            }
        }
        evictAbove = Math.max(capacity, cache.size()) + slack;
    }

    /** Reads block {@code nr} raw, without validation or caching (for checkers and the superblock). */
    public synchronized ByteBuffer readRaw(long nr) {
        checkBounds(nr);
        Block b = cache.get(nr);
        ByteBuffer buf = ByteBuffer.allocate(org.thinfs.core.format.Layout.BLOCK_SIZE)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (b != null && b.isDirty()) {
            buf.put(0, b.data(), 0, buf.capacity());
            return buf;
        }
        try {
            device.read(nr, buf);
        } catch (IOException e) {
            throw StorageIOException.of("cannot read metadata block " + nr, e);
        }
        return buf.clear();
    }

    /** Returns a zero-filled dirty block for {@code nr} without reading the device (a freshly allocated block). */
    public synchronized Block zeroed(long nr, BlockValidator validator) {
        checkBounds(nr);
        Block b = cache.get(nr);
        if (b == null) {
            b = new Block(nr, validator);
            cache.put(nr, b);
        } else {
            b.setValidator(validator);
            ByteBuffer d = b.data();
            for (int i = 0; i < d.capacity(); i += 8) {
                d.putLong(i, 0);
            }
        }
        setDirty(b, true);
        return b;
    }

    public synchronized void markDirty(Block b) {
        requireWritable();
        if (cache.get(b.nr()) != b) {
            throw new IllegalStateException("block " + b.nr() + " was evicted while in use");
        }
        setDirty(b, true);
    }

    /** Seals and writes every dirty block, then flushes the device. */
    public synchronized void flush() {
        for (Map.Entry<Long, Block> e = dirty.firstEntry(); e != null; e = dirty.firstEntry()) {
            writeOut(e.getValue());        // which takes it out of dirty
        }
        try {
            device.flush();
        } catch (IOException e) {
            throw StorageIOException.of("cannot flush the metadata device", e);
        }
    }

    /** Seals {@code buf} with {@code validator} as block {@code nr}, writes it and flushes. Used for the superblock. */
    public synchronized void writeAndFlush(long nr, ByteBuffer buf, BlockValidator validator) {
        requireWritable();
        validator.prepareForWrite(buf, nr);
        Block cached = cache.remove(nr);
        if (cached != null) {
            setDirty(cached, false);
        }
        try {
            device.write(nr, buf.duplicate().clear());
            device.flush();
        } catch (IOException e) {
            throw StorageIOException.of("cannot write metadata block " + nr, e);
        }
    }

    /** Evicts least recently used blocks until the cache fits its capacity; dirty ones are written first. */
    public synchronized void trim() {
        if (cache.size() <= capacity) {
            return;
        }
        Iterator<Map.Entry<Long, Block>> it = cache.entrySet().iterator();
        while (cache.size() > capacity && it.hasNext()) {
            Block b = it.next().getValue();
            if (b.isDirty()) {
                writeOut(b);
            }
            it.remove();
        }
    }

    /** Forgets every cached block, dirty or not (used when a transaction is aborted). */
    public synchronized void discardAll() {
        cache.clear();
        dirty.clear();
    }

    public synchronized int cachedBlocks() {
        return cache.size();
    }

    private void writeOut(Block b) {
        requireWritable();
        b.validator().prepareForWrite(b.data(), b.nr());
        try {
            device.write(b.nr(), b.data().duplicate().clear());
        } catch (IOException e) {
            throw StorageIOException.of("cannot write metadata block " + b.nr(), e);
        }
        setDirty(b, false);
        LOG.trace("wrote metadata block {}", b.nr());
    }

    private void setDirty(Block b, boolean d) {
        b.setDirty(d);
        if (d) {
            dirty.put(b.nr(), b);
        } else {
            dirty.remove(b.nr());
        }
    }

    private void checkBounds(long nr) {
        if (nr < 0 || nr >= nrBlocks) {
            throw new CorruptMetadataException(nr, "points past the end of the metadata device (" + nrBlocks
                    + " blocks)");
        }
    }

    private void requireWritable() {
        if (!writable) {
            throw new IllegalStateException("metadata was opened read-only");
        }
    }

    @Override
    public synchronized void close() throws IOException {
        cache.clear();
        device.close();
    }
}
