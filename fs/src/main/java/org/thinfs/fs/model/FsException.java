package org.thinfs.fs.model;

/**
 * A file-system level failure with the POSIX error it stands for. The FUSE adapter turns it into {@code -errno};
 * the model never sees jnr types.
 */
public final class FsException extends RuntimeException {
    /** The POSIX errors the model reports. */
    public enum Code { ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, ENAMETOOLONG, EROFS, EPERM, ENOSPC, EXDEV, EIO, ENXIO, EOPNOTSUPP, EBUSY }

    private final Code code;

    public FsException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
