package org.thinfs.fs.bench;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.thinfs.fs.fuse.Mounter;
import org.thinfs.fs.fuse.NativeBuffers;
import org.thinfs.fs.fuse.PinnedThreadsFuseFS;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The benchmark ceiling: one backing file exposed as {@code MOUNT/disk} through jnr-fuse with no metadata at all,
 * moving bytes between FUSE's buffers and the file as directly as jnr-fuse allows (a direct ByteBuffer over the
 * request buffer, no heap copy). Mounted with the same options thinfs uses.
 *
 * <p>Usage: {@code java --add-opens java.base/java.nio=ALL-UNNAMED -cp thinfs.jar org.thinfs.fs.bench.PassthroughFuse
 * BACKING_FILE MOUNTPOINT}
 */
public final class PassthroughFuse extends PinnedThreadsFuseFS {
    private static final String NAME = "/disk";
    private static final int O_RDWR = 2;

    /** libc's fallocate, for the fallocate requests a loop device sends (mkfs's zero ranges). */
    public interface LibC {
        int open(String path, int flags);

        int fallocate(int fd, int mode, long offset, long len);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
    private final FileChannel file;
    private final int fd;

    PassthroughFuse(Path backing) throws IOException {
        this.file = FileChannel.open(backing, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.fd = LIBC.open(backing.toString(), O_RDWR);
        if (fd < 0) {
            throw new IOException("cannot open " + backing);
        }
    }

    @Override
    public int getattr(String path, FileStat stat) {
        if (path.equals("/")) {
            stat.st_mode.set(FileStat.S_IFDIR | 0755);
            stat.st_nlink.set(2);
            return 0;
        }
        if (!path.equals(NAME)) {
            return -ErrorCodes.ENOENT();
        }
        try {
            stat.st_mode.set(FileStat.S_IFREG | 0644);
            stat.st_nlink.set(1);
            stat.st_size.set(file.size());
            stat.st_blocks.set(file.size() / 512);
            return 0;
        } catch (IOException e) {
            return -ErrorCodes.EIO();
        }
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        filter.apply(buf, ".", null, 0);
        filter.apply(buf, "..", null, 0);
        filter.apply(buf, NAME.substring(1), null, 0);
        return 0;
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return path.equals(NAME) ? 0 : -ErrorCodes.ENOENT();
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        try {
            ByteBuffer dst = NativeBuffers.wrap(buf.address(), (int) size);
            int total = 0;
            while (dst.hasRemaining()) {
                int n = file.read(dst, offset + total);
                if (n <= 0) {
                    break;
                }
                total += n;
            }
            return total;
        } catch (IOException e) {
            return -ErrorCodes.EIO();
        }
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        try {
            ByteBuffer src = NativeBuffers.wrap(buf.address(), (int) size);
            long pos = offset;
            while (src.hasRemaining()) {
                pos += file.write(src, pos);
            }
            return (int) size;
        } catch (IOException e) {
            return -ErrorCodes.EIO();
        }
    }

    @Override
    public int truncate(String path, @off_t long size) {
        try {
            if (size < file.size()) {
                file.truncate(size);
            } else if (size > file.size()) {
                file.write(ByteBuffer.allocate(1), size - 1);
            }
            return 0;
        } catch (IOException e) {
            return -ErrorCodes.EIO();
        }
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        try {
            file.force(false);
            return 0;
        } catch (IOException e) {
            return -ErrorCodes.EIO();
        }
    }

    /** Passed on as it came: the ceiling for a loop device's zero ranges and discards. */
    @Override
    public int fallocate(String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
        return LIBC.fallocate(fd, mode, off, length) == 0 ? 0 : -ErrorCodes.EOPNOTSUPP();
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return 0;
    }

    @Override
    public int statfs(String path, Statvfs st) {
        st.f_bsize.set(4096);
        st.f_frsize.set(4096);
        return 0;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: PassthroughFuse BACKING_FILE MOUNTPOINT [fuse options...]");
            System.exit(2);
        }
        if (!NativeBuffers.available()) {
            System.err.println("run with --add-opens java.base/java.nio=ALL-UNNAMED");
            System.exit(2);
        }
        PassthroughFuse fs = new PassthroughFuse(Path.of(args[0]));
        // The same options and the same request loop as a thinfs mount, so the two differ only in what they do.
        List<String> opts = List.of("-o", Mounter.DEFAULT_OPTIONS);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            fs.umount();
            stop.countDown();
        }));
        fs.serve(Path.of(args[1]), opts, Integer.getInteger("thinfs.fuseThreads", 16),
                Integer.getInteger("thinfs.maxRequest", PinnedThreadsFuseFS.MAX_REQUEST));
    }
}
