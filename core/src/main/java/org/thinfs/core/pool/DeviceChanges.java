package org.thinfs.core.pool;

import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Changes to which thin devices a pool holds and which mapping tree each has: create, snapshot, delete, roll back.
 * Each is one metadata step (MetadataGuard#change: all or nothing, a failure returns the metadata to the last
 * commit). Those that take a tree from or give one to a device that may have I/O in flight hold the pool's gate, so
 * no request sees the change half made and no write lands between the snapshots of one set.
 */
final class DeviceChanges {
    private final ReentrantReadWriteLock gate;
    private final MetadataGuard metadata;
    private final DeviceBases bases;
    /** The pool's open device handles: a deleted device's handle is marked so that later I/O through it fails. */
    private final Map<Long, ThinDevice> handles;
    private final Committer committer;

    DeviceChanges(ReentrantReadWriteLock gate, MetadataGuard metadata, DeviceBases bases,
                  Map<Long, ThinDevice> handles, Committer committer) {
        this.gate = gate;
        this.metadata = metadata;
        this.bases = bases;
        this.handles = handles;
        this.committer = committer;
    }

    /** A new, empty device: nothing can be in flight to it, so no gate. */
    void createThin(long id) {
        metadata.change(md -> {
            md.createThin(id);
            return null;
        });
    }

    /** Snapshots, each pair {new id, origin id}; all or none, with no write between them. */
    void createSnapshots(List<long[]> pairs) {
        gate.writeLock().lock();
        try {
            metadata.change(md -> {
                for (long[] p : pairs) {
                    md.createSnapshot(p[0], p[1]);
                }
                return null;
            });
            for (long[] p : pairs) {
                bases.inherit(p[0], p[1]);
            }
        } finally {
            gate.writeLock().unlock();
        }
    }

    /**
     * Takes device {@code id} out of the top-level tree under the gate (no I/O to it may be in flight), then frees
     * its blocks in steps, each its own metadata operation, so I/O to every other device goes on meanwhile.
     */
    void delete(long id) {
        gate.writeLock().lock();
        try {
            metadata.change(md -> {
                md.delete(id);
                return null;
            });
            bases.remove(id);
            ThinDevice gone = handles.remove(id);
            if (gone != null) {
                gone.markDeleted(); // under the gate: no I/O through it is in flight, and none will start
            }
        } finally {
            gate.writeLock().unlock();
        }
        committer.freeDeleted();
    }

    /**
     * Rollbacks, each pair {device id, snapshot id}, all or none: each device lets go of its tree and shares the
     * snapshot's, keeping its id (open handles read the snapshot's bytes from now on). Checks every pair before
     * anything changes.
     */
    void rollback(List<long[]> pairs) {
        gate.writeLock().lock();
        try {
            metadata.change(md -> {
                for (long[] p : pairs) {
                    md.details(p[1]);                     // refuses a missing snapshot before anything changes
                    md.details(p[0]);
                }
                for (long[] p : pairs) {
                    md.delete(p[0]);
                    md.createSnapshot(p[0], p[1]);
                }
                return null;
            });
            for (long[] p : pairs) {
                bases.inherit(p[0], p[1]);   // the snapshot's view: it may show more of the image than a shrunk device
            }
        } finally {
            gate.writeLock().unlock();
        }
    }
}
