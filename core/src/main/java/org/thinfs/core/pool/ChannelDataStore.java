package org.thinfs.core.pool;

import org.thinfs.core.ChangeRefusedException;
import org.thinfs.core.StorageIOException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** What every data store over one FileChannel does the same way: size, flush, close, and refusing to grow a device. */
abstract class ChannelDataStore implements DataStore {
    protected final FileChannel channel;
    protected final Path path;
    /** "data file" or "data device", for messages. */
    protected final String what;
    /** Every write of a subclass calls {@link WriteSignal#written}. */
    protected final WriteSignal writes = new WriteSignal();

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

    @Override
    public void flush() {
        try {
            channel.force(false);
        } catch (IOException e) {
            throw StorageIOException.of("cannot flush the " + what + " " + path, e);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
