package org.thinfs.core.pool;

import java.io.IOException;

/**
 * A write's bytes that are not in this process's memory: a FUSE request's payload left in a pipe, moved into the
 * data file by {@code splice(2)} without a copy through a buffer here. Bound to one pool's data file by whoever made
 * it; the store only says where in that file each run of the bytes goes, in order.
 */
public interface ExternalBytes {
    /** Moves the next {@code length} bytes to byte {@code pos} of the data file: all of them, or throws. */
    void moveTo(long pos, int length) throws IOException;
}
