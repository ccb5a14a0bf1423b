package org.thinfs.fs.model;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The small files of a pool directory that commits and fsyncs rewrite in place (the catalog's two slots and the
 * times log's two), each opened once and held until the pool closes.
 *
 * <p>Why: opened by name for every write, a commit cost a path lookup, a stat and two opens and closes (the write,
 * then the flush on another thread) per slot. After the page cache was dropped, the lookup read the slot's inode
 * back from disk: 0.2-0.6 ms at the start of each commit (ftrace of a loop device's fsync during mkfs.ext4), while a
 * held descriptor keeps the inode in memory as the loop device keeps its own backing file's.
 *
 * <p>Rules kept: a slot is never opened through a symbolic link (O_NOFOLLOW; one planted in the pool directory is
 * refused); a file this class creates is reported as created once, so the caller makes its name durable (directory
 * fsync). The files are the pool's own: nothing else renames or removes them while the pool is open (the pool's
 * lock keeps other thinfs processes out), so the descriptor and the name stay the same file.
 */
final class SlotFiles implements AutoCloseable {
    /** An open slot; {@code created}: the file did not exist before this open (its name is not durable yet). */
    record Slot(FileChannel channel, boolean created) {
    }

    private final Path dir;
    private final Map<Path, FileChannel> open = new HashMap<>();
    private boolean closed;

    SlotFiles(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /**
     * Opens those of {@code files} that exist now, so the first commit or fsync after the pool opens finds them open
     * too (its lookups would be as cold as any after a dropped cache). Missing ones are left to {@link #open}.
     */
    synchronized void openExisting(Path... files) throws IOException {
        for (Path file : files) {
            if (!open.containsKey(file) && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                open.put(file, FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
            }
        }
    }

    /** {@code file} (in this directory), opened for writing on first use and created when missing. */
    synchronized Slot open(Path file) throws IOException {
        if (closed) {
            throw new IOException("the pool's files in " + dir + " are closed");
        }
        FileChannel ch = open.get(file);
        if (ch != null && ch.isOpen()) {
            return new Slot(ch, false);
        }
        boolean created = !Files.exists(file, LinkOption.NOFOLLOW_LINKS);
        ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        open.put(file, ch);
        return new Slot(ch, created);
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        IOException first = null;
        for (FileChannel ch : open.values()) {
            try {
                ch.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}
