package org.thinfs.fs.fuse;

import jnr.ffi.LibraryLoader;
import org.thinfs.core.pool.DataHolePuncher;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Gives freed data blocks back to the host file system with {@code fallocate(PUNCH_HOLE | KEEP_SIZE)} on the data
 * file, as dm-thin passes discards down. Uses libc through jnr-ffi (which jnr-fuse brings along).
 */
public final class HolePuncher implements DataHolePuncher, AutoCloseable {
    private static final int O_WRONLY = 1;
    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;

    /** The libc calls this class needs. */
    public interface LibC {
        int open(String path, int flags);

        int fallocate(int fd, int mode, long offset, long len);

        int close(int fd);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private final int fd;
    private final Path path;

    public HolePuncher(Path dataFile) throws IOException {
        this.path = dataFile;
        this.fd = LIBC.open(dataFile.toString(), O_WRONLY);
        if (fd < 0) {
            throw new IOException("cannot open " + dataFile + " to punch holes");
        }
    }

    @Override
    public void punch(long offset, long length) throws IOException {
        if (LIBC.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) != 0) {
            throw new IOException("fallocate(PUNCH_HOLE) failed on " + path + " at " + offset);
        }
    }

    @Override
    public void close() {
        LIBC.close(fd);
    }
}
