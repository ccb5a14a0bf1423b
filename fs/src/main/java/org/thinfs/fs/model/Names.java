package org.thinfs.fs.model;

import java.nio.charset.StandardCharsets;

/** What a volume or snapshot name may be: one path component, no control characters, at most 255 bytes. */
final class Names {
    static final int MAX_BYTES = 255;

    private Names() {
    }

    static void check(String name) {
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            throw new FsException(FsException.Code.ENAMETOOLONG, "name longer than " + MAX_BYTES + " bytes");
        }
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f) || name.startsWith(FsPath.HIDDEN_PREFIX)) {
            throw new FsException(FsException.Code.EINVAL, "invalid name '" + name.replaceAll("\\p{Cntrl}", "?")
                    + "'");
        }
    }
}
