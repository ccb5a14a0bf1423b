package org.thinfs.core.pool;

import org.thinfs.core.StorageIOException;
import org.thinfs.core.io.DirectBufferPool;
import org.thinfs.core.io.Devices;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The data device opened with {@code O_DIRECT} (mount option {@code direct}): data bypasses the host's page cache,
 * which a pool on a block device does not need (the guest or file system above caches), so memory goes to what
 * uses it and the device sees writes as they happen; a flush (fdatasync, which sends FLUSH) still precedes every
 * superblock write. Block devices only.
 *
 * <p>O_DIRECT wants the buffer, the offset and the length aligned to the device's logical block; the pool's I/O is
 * any byte range, so every request goes through an aligned bounce buffer of {@link #ALIGN} bytes granularity, and
 * a write that starts or ends inside a 4 KiB sector reads that sector first (read, modify, write). That is safe
 * because a sector lies inside one data block (blocks are multiples of 64 KiB), and a write with a partial sector
 * holds that block's exclusive lock: only writes of whole 4 KiB sectors go under the shared lock
 * (BlockChange#changeInPlaceShared), and those read nothing back. A block other devices share is never written in
 * place (it is copied first).
 */
public final class DirectDataFile extends ChannelDataStore {
    /** The alignment used: 4 KiB serves devices with 512-byte and with 4 KiB logical sectors. */
    static final int ALIGN = 4096;
    private static final int CHUNK = 1 << 20;
    /** Bounce buffers, with room to cut an aligned span of CHUNK plus a sector at each end out of each. */
    private static final DirectBufferPool BOUNCE = new DirectBufferPool(16, CHUNK + 3 * ALIGN);

    private DirectDataFile(FileChannel channel, Path path) {
        super(channel, path, "data device");
    }

    /** Opens block device {@code path} for direct I/O; one sentence for a file or a device that refuses it. */
    public static DirectDataFile open(Path path, boolean writable) throws IOException {
        if (!Devices.isBlockDevice(path)) {
            throw new IOException("direct I/O is for data on a block device, and " + path + " is not one");
        }
        FileChannel ch = writable
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                        com.sun.nio.file.ExtendedOpenOption.DIRECT)
                : FileChannel.open(path, StandardOpenOption.READ, com.sun.nio.file.ExtendedOpenOption.DIRECT);
        return new DirectDataFile(ch, path);
    }

    @Override
    public void ensureSize(long bytes) {
        if (size() < bytes) {
            throw deviceTooSmall(bytes);
        }
    }

    @Override
    public void read(long pos, ByteBuffer dst) {
        ByteBuffer whole = BOUNCE.acquire();
        try {
            ByteBuffer b = whole.alignedSlice(ALIGN);
            while (dst.hasRemaining()) {
                long start = pos & -ALIGN;
                int lead = (int) (pos - start);
                int want = Math.min(dst.remaining(), CHUNK);
                int span = (int) (roundUp(pos + want) - start);
                b.clear().limit(span);
                readFully(b, start);
                b.position(lead).limit(lead + want);
                dst.put(b);
                pos += want;
            }
        } finally {
            BOUNCE.release(whole);
        }
    }

    @Override
    public void write(long pos, ByteBuffer src) {
        wrote(pos, src.remaining());
        ByteBuffer whole = BOUNCE.acquire();
        try {
            ByteBuffer b = whole.alignedSlice(ALIGN);
            while (src.hasRemaining()) {
                long start = pos & -ALIGN;
                int lead = (int) (pos - start);
                int want = Math.min(src.remaining(), CHUNK);
                long end = roundUp(pos + want);
                int span = (int) (end - start);
                if (lead != 0) {                                   // the first sector's bytes before the write
                    b.clear().limit(ALIGN);
                    readFully(b, start);
                }
                if (pos + want != end && (end - ALIGN > start || lead == 0)) {
                    b.clear().position(span - ALIGN).limit(span);  // the last sector's bytes after it
                    readFully(b, end - ALIGN);
                }
                int limit = src.limit();
                src.limit(src.position() + want);
                b.clear().position(lead);
                b.put(src);
                src.limit(limit);
                b.position(0).limit(span);
                while (b.hasRemaining()) {
                    channel.write(b, start + b.position());
                }
                pos += want;
            }
        } catch (IOException e) {
            throw StorageIOException.of("cannot write the data device " + path + " at byte " + pos, e);
        } finally {
            BOUNCE.release(whole);
        }
    }

    /** Fills {@code b} (aligned, from its position) from device offset {@code at} + position; zeros past the end. */
    private void readFully(ByteBuffer b, long at) {
        long base = at - b.position();
        try {
            while (b.hasRemaining()) {
                if (channel.read(b, base + b.position()) < 0) {
                    DataBuffers.zero(b, b.remaining());
                }
            }
        } catch (IOException e) {
            throw StorageIOException.of("cannot read the data device " + path + " at byte " + at, e);
        }
    }

    private static long roundUp(long x) {
        return (x + ALIGN - 1) & -ALIGN;
    }
}
