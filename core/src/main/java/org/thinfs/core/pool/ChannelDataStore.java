package org.thinfs.core.pool;

import org.thinfs.core.ChangeRefusedException;
import org.thinfs.core.StorageIOException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** What every data store over one FileChannel does the same way: size, flush, close, and refusing to grow a device. */
abstract class ChannelDataStore implements DataStore {
    protected final FileChannel channel;
    protected final Path path;
    /** "data file" or "data device", for messages. */
    protected final String what;
    /** Told of every write, through {@link #wrote}; also the count of bytes written so far. */
    private final WriteSignal writes = new WriteSignal();
    /** The bytes written when the last finished flush started: everything written before that is durable. */
    private final AtomicLong flushedMark = new AtomicLong();

    ChannelDataStore(FileChannel channel, Path path, String what) {
        this.channel = channel;
        this.path = path;
        this.what = what;
    }

    @Override
    public long size() {
        try {
            return channel.size();
        } catch (IOException e) {
            throw StorageIOException.of("cannot size the " + what + " " + path, e);
        }
    }

    /** A block device's size is fixed here (grown only by growing the device), so a pool larger than it is refused. */
    protected ChangeRefusedException deviceTooSmall(long bytes) {
        return new ChangeRefusedException("the data device " + path + " holds " + size() + " bytes, less than the "
                + bytes + " asked for; grow the device first (lvextend, losetup -c)");
    }

    @Override
    public WriteSignal writeSignal() {
        return writes;
    }

    /** Every write of a subclass calls this first, with where it writes and how many bytes. */
    protected final void wrote(long pos, long bytes) {
        writes.written(pos, bytes);
    }

    /** Whether a write-behind follows this store's writes ({@link WriteSignal#writeBehindFollows}). */
    protected final boolean writeBehindFollows() {
        return writes.writeBehindFollows();
    }

    @Override
    public long unflushedBytes() {
        return Math.max(0, writes.total() - flushedMark.get());
    }

    @Override
    public void flush() {
        long mark = writes.total();
        try {
            channel.force(false);
            flushedMark.accumulateAndGet(mark, Math::max);
        } catch (IOException e) {
            throw StorageIOException.of("cannot flush the " + what + " " + path, e);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
