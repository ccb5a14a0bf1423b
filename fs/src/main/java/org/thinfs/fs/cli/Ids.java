package org.thinfs.fs.cli;

import com.sun.security.auth.module.UnixSystem;

/** The user the daemon runs as: files in the mount are owned by it. */
final class Ids {
    private static final UnixSystem UNIX = new UnixSystem();

    private Ids() {
    }

    static long uid() {
        return UNIX.getUid();
    }

    static long gid() {
        return UNIX.getGid();
    }
}
