package org.thinfs.fs.fuse;

/** Paths as {@code /proc/mounts} and {@code /proc/self/mountinfo} print them. */
public final class MountPaths {
    private MountPaths() {
    }

    /** Undoes the kernel's octal escapes of space, tab, newline and backslash in a mount path. */
    public static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
