package org.thinfs.fs.nbd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.HostDiskFullException;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.NoSuchDeviceException;
import org.thinfs.core.OutOfDataSpaceException;
import org.thinfs.core.OutOfMetadataSpaceException;
import org.thinfs.fs.model.FsException;

/** The one place where failures become NBD errors (as Errno is for FUSE); each is logged once. */
final class NbdErrors {
    private static final Logger LOG = LoggerFactory.getLogger(NbdErrors.class);

    private NbdErrors() {
    }

    static int of(RuntimeException e, String export) {
        if (e instanceof FsException fe) {
            LOG.debug("nbd {}: {}", export, fe.getMessage());
            return switch (fe.code()) {
                case EROFS, EPERM -> Nbd.EPERM;
                case ENOSPC -> Nbd.ENOSPC;
                case EINVAL, ENXIO -> Nbd.EINVAL;
                case ENOENT -> Nbd.ESHUTDOWN; // the volume was deleted under the export
                default -> Nbd.EIO;
            };
        }
        if (e instanceof OutOfDataSpaceException || e instanceof HostDiskFullException) {
            LOG.warn("nbd {}: {}", export, e.getMessage());
            return Nbd.ENOSPC;
        }
        if (e instanceof MetadataReadOnlyException || e instanceof OutOfMetadataSpaceException) {
            LOG.warn("nbd {}: {}", export, e.getMessage());
            return Nbd.EPERM;
        }
        if (e instanceof org.thinfs.core.ChangeRefusedException || e instanceof IllegalArgumentException) {
            LOG.warn("nbd {}: {}", export, e.getMessage());
            return Nbd.EINVAL;
        }
        if (e instanceof NoSuchDeviceException) {
            return Nbd.ESHUTDOWN;
        }
        LOG.error("nbd {}: {}", export, e.getMessage(), e);
        return Nbd.EIO;
    }
}
