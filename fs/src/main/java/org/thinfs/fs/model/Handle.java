package org.thinfs.fs.model;

import org.thinfs.core.pool.ThinDevice;
import org.thinfs.fs.model.Catalog.Entry;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open volume, as {@link PoolFileSystem#open} hands it out: the device and catalog entry it was opened on, fixed
 * for its life (a rename or a delete of the name does not move it), and whether it may write. Every data call of the
 * model takes one.
 */
public final class Handle {
    final ThinDevice device;
    final Entry entry;
    final boolean readOnly;
    /** Opened for writing (O_WRONLY, O_RDWR, a writable NBD export): rollback refuses such a volume. */
    final boolean forWriting;

    private final AtomicBoolean open = new AtomicBoolean(true);

    Handle(ThinDevice device, Entry entry, boolean readOnly, boolean forWriting) {
        this.device = device;
        this.entry = entry;
        this.readOnly = readOnly;
        this.forWriting = forWriting;
    }

    /** Marks the handle closed; true the first time only. */
    boolean close() {
        return open.compareAndSet(true, false);
    }

    public boolean readOnly() {
        return readOnly;
    }
}
