package org.thinfs.fs.fuse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.DeviceExistsException;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.OutOfMetadataSpaceException;
import org.thinfs.fs.model.FsException;
import ru.serce.jnrfuse.ErrorCodes;

/** The single place where exceptions become {@code -errno}. Expected failures log at debug; the rest at error. */
final class Errno {
    private static final Logger LOG = LoggerFactory.getLogger(Errno.class);

    private Errno() {
    }

    static int of(String op, String path, Throwable t) {
        if (t instanceof FsException fe) {
            LOG.debug("{} {}: {}", op, path, fe.getMessage());
            return -code(fe.code());
        }
        if (t instanceof OutOfDataSpaceException) {
            LOG.warn("{} {}: {}", op, path, t.getMessage());
            return -ErrorCodes.ENOSPC();
        }
        if (t instanceof MetadataReadOnlyException || t instanceof OutOfMetadataSpaceException) {
            LOG.warn("{} {}: {}", op, path, t.getMessage());
            return -ErrorCodes.EROFS();
        }
        if (t instanceof NoSuchDeviceException) {
            return -ErrorCodes.ENOENT();
        }
        if (t instanceof DeviceExistsException) {
            return -ErrorCodes.EEXIST();
        }
        if (t instanceof org.thinfs.core.ChangeRefusedException || t instanceof org.thinfs.core.DamagedInputException) {
            LOG.warn("{} {}: {}", op, path, t.getMessage());
            return -ErrorCodes.EINVAL();
        }
        if (t instanceof IllegalArgumentException) {
            LOG.warn("{} {}: {}", op, path, t.getMessage());
            return -ErrorCodes.EINVAL();
        }
        if (t instanceof org.thinfs.core.HostDiskFullException) {
            LOG.error("{} {}: {}", op, path, t.getMessage());
            return -ErrorCodes.ENOSPC();
        }
        if (t instanceof org.thinfs.core.StorageIOException) {
            LOG.error("{} {}: {}", op, path, t.getMessage());
            return -ErrorCodes.EIO();
        }
        if (t instanceof CorruptMetadataException) {
            LOG.error("{} {}: metadata corruption: {}", op, path, t.getMessage());
            return -ErrorCodes.EIO();
        }
        LOG.error("{} {} failed", op, path, t);
        return -ErrorCodes.EIO();
    }

    static int code(FsException.Code c) {
        return switch (c) {
            case ENOENT -> ErrorCodes.ENOENT();
            case EEXIST -> ErrorCodes.EEXIST();
            case ENOTDIR -> ErrorCodes.ENOTDIR();
            case EISDIR -> ErrorCodes.EISDIR();
            case ENOTEMPTY -> ErrorCodes.ENOTEMPTY();
            case EINVAL -> ErrorCodes.EINVAL();
            case ENAMETOOLONG -> ErrorCodes.ENAMETOOLONG();
            case EROFS -> ErrorCodes.EROFS();
            case EPERM -> ErrorCodes.EPERM();
            case ENOSPC -> ErrorCodes.ENOSPC();
            case EXDEV -> ErrorCodes.EXDEV();
            case EIO -> ErrorCodes.EIO();
            case ENXIO -> ErrorCodes.ENXIO();
            case EOPNOTSUPP -> ErrorCodes.EOPNOTSUPP();
            case EBUSY -> ErrorCodes.EBUSY();
        };
    }
}
