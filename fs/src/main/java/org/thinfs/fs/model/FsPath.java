package org.thinfs.fs.model;

import java.util.ArrayList;
import java.util.List;

/**
 * A path inside the mount, classified:
 * <pre>
 *   /                         ROOT
 *   /NAME                     VOLUME (or the SNAPSHOTS / LOST_FOUND directories)
 *   /snapshots/SET            SNAPSHOT_SET
 *   /snapshots/SET/NAME       SNAPSHOT_VOLUME
 *   /lost+found/dev-ID        LOST_DEVICE
 * </pre>
 *   .../.fuse_hiddenXXXX      HIDDEN (libfuse's name for an open volume that was removed, in any of the
 *                             directories above; never listed)
 * Anything deeper or elsewhere is INVALID (it cannot exist).
 */
record FsPath(Kind kind, String set, String name) {
    static final String SNAPSHOTS = "snapshots";
    static final String LOST_FOUND = "lost+found";

    enum Kind { ROOT, SNAPSHOTS_DIR, LOST_FOUND_DIR, VOLUME, SNAPSHOT_SET, SNAPSHOT_VOLUME, LOST_DEVICE, HIDDEN, INVALID }

    /**
     * libfuse2 renames a file that is removed (rm, or mv over it) while open to {@code .fuse_hiddenINOCOUNT} and
     * removes that name at its last close; such names are reserved.
     */
    static final String HIDDEN_PREFIX = ".fuse_hidden";

    static FsPath parse(String path) {
        if (path == null) {
            return new FsPath(Kind.INVALID, null, null);   // libfuse's null path: a file removed while open
        }
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty()) {
                parts.add(p);
            }
        }
        FsPath p = classify(parts);
        if ((p.kind == Kind.VOLUME || p.kind == Kind.SNAPSHOT_VOLUME || p.kind == Kind.LOST_DEVICE)
                && parts.get(parts.size() - 1).startsWith(HIDDEN_PREFIX)) {
            // libfuse hides an open file in its own directory: snapshots/SET/.fuse_hidden... too. The whole path
            // names it, so two directories' hidden files never meet.
            return new FsPath(Kind.HIDDEN, null, String.join("/", parts));
        }
        return p;
    }

    private static FsPath classify(List<String> parts) {
        switch (parts.size()) {
            case 0:
                return new FsPath(Kind.ROOT, null, null);
            case 1:
                return switch (parts.get(0)) {
                    case SNAPSHOTS -> new FsPath(Kind.SNAPSHOTS_DIR, null, null);
                    case LOST_FOUND -> new FsPath(Kind.LOST_FOUND_DIR, null, null);
                    default -> new FsPath(Kind.VOLUME, null, parts.get(0));
                };
            case 2:
                if (parts.get(0).equals(SNAPSHOTS)) {
                    return new FsPath(Kind.SNAPSHOT_SET, parts.get(1), null);
                }
                if (parts.get(0).equals(LOST_FOUND)) {
                    return new FsPath(Kind.LOST_DEVICE, null, parts.get(1));
                }
                return new FsPath(Kind.INVALID, null, null);
            case 3:
                if (parts.get(0).equals(SNAPSHOTS)) {
                    return new FsPath(Kind.SNAPSHOT_VOLUME, parts.get(1), parts.get(2));
                }
                return new FsPath(Kind.INVALID, null, null);
            default:
                return new FsPath(Kind.INVALID, null, null);
        }
    }

    boolean isDirectory() {
        return kind == Kind.ROOT || kind == Kind.SNAPSHOTS_DIR || kind == Kind.LOST_FOUND_DIR
                || kind == Kind.SNAPSHOT_SET;
    }

    /** The id in a lost+found name {@code dev-ID}, or -1. */
    long lostId() {
        if (name == null || !name.startsWith("dev-")) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(4));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
