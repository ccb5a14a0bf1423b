package org.thinfs.core.pool;

import java.io.IOException;

/**
 * Returns freed data blocks' space to the host filesystem (fallocate PUNCH_HOLE), as dm-thin passes discards
 * down. Plain Java has no punch-hole call, so the fs module supplies one through native code; the default does
 * nothing.
 */
@FunctionalInterface
public interface DataHolePuncher {
    DataHolePuncher NONE = (offset, length) -> { };

    void punch(long offset, long length) throws IOException;
}
