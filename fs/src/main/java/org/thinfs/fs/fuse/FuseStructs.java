package org.thinfs.fs.fuse;

import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.model.PoolFileSystem.Attr;
import org.thinfs.fs.model.Times;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/** The model's answers written into the structs libfuse2 hands over (stat, statvfs), and utimensat's times read. */
final class FuseStructs {
    private static final long UTIME_NOW = (1L << 30) - 1;
    private static final long UTIME_OMIT = (1L << 30) - 2;
    /** What statvfs counts space in. */
    private static final long FRAGMENT = 4096;

    private FuseStructs() {
    }

    /** stat of a volume or directory; uid and gid -1 in {@code a} mean the mounting user's ({@code uid}, {@code gid}). */
    static int fill(FileStat stat, Attr a, long uid, long gid) {
        stat.st_mode.set((a.directory() ? FileStat.S_IFDIR : FileStat.S_IFREG) | a.mode());
        stat.st_nlink.set(a.nlink());
        stat.st_size.set(a.size());
        stat.st_blocks.set(a.bytesUsed() / 512);
        stat.st_blksize.set(65536);
        stat.st_uid.set(a.uid() >= 0 ? a.uid() : uid);
        stat.st_gid.set(a.gid() >= 0 ? a.gid() : gid);
        setTime(stat.st_atim, a.atimeNs());
        setTime(stat.st_mtim, a.mtimeNs());
        setTime(stat.st_ctim, a.ctimeNs());
        return 0;
    }

    /** statvfs of the pool. */
    static int fill(Statvfs st, PoolFileSystem.Space s) {
        st.f_bsize.set(s.blockSize());
        st.f_frsize.set(FRAGMENT);
        st.f_blocks.set(s.total() / FRAGMENT);
        st.f_bfree.set(s.free() / FRAGMENT);
        st.f_bavail.set(s.free() / FRAGMENT);
        st.f_namemax.set(255);
        // Volumes are the files: as many as dm-thin has device ids, each snapshot member one of them.
        st.f_files.set(s.maxFiles());
        st.f_ffree.set(s.maxFiles() - s.files());
        st.f_favail.set(s.maxFiles() - s.files());
        return 0;
    }

    private static void setTime(Timespec t, long ns) {
        t.tv_sec.set(Math.floorDiv(ns, 1_000_000_000L));
        t.tv_nsec.set(Math.floorMod(ns, 1_000_000_000L));
    }

    /** A utimensat time as the model takes it: nanoseconds, or Times.NOW / Times.OMIT from tv_nsec. */
    static long timeOf(Timespec t) {
        long nsec = t.tv_nsec.longValue();
        if (nsec == UTIME_OMIT) {
            return Times.OMIT;
        }
        if (nsec == UTIME_NOW) {
            return Times.NOW;
        }
        return t.tv_sec.get() * 1_000_000_000L + nsec;
    }
}
