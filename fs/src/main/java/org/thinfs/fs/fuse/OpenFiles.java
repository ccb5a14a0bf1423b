package org.thinfs.fs.fuse;

import org.thinfs.fs.model.Handle;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The volumes open through the mount, by the file handle the kernel holds for each ({@code fh}, a number this table
 * hands out): the model's {@link Handle}, the path it was opened by (to name the file when a request served by its
 * handle alone fails), and the kernel's node id of the file (to drop the kernel's cached pages when the volume's
 * bytes change beneath it, as a rollback does).
 */
final class OpenFiles {
    /** One open file. The node is written once, by the first request that knows it, and read by invalidations. */
    static final class OpenFile {
        final Handle handle;
        final String path;
        private volatile long node;

        private OpenFile(Handle handle, String path, long node) {
            this.handle = handle;
            this.path = path;
            this.node = node;
        }

        /**
         * CREATE's header names the parent directory, not the new file: a handle made by create() learns its file's
         * node from the first read or write on it.
         */
        void learnNode(long requestNode) {
            if (node == 0) {
                node = requestNode;
            }
        }

        boolean knowsNode() {
            return node != 0;
        }
    }

    private final ConcurrentHashMap<Long, OpenFile> files = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);

    /**
     * Registers {@code handle}, opened by {@code path}; {@code node} is the file's node id, or 0 when the request
     * named another (CREATE). Returns the fh to give the kernel.
     */
    long add(Handle handle, String path, long node) {
        long fh = nextHandle.getAndIncrement();
        files.put(fh, new OpenFile(handle, path, node));
        return fh;
    }

    /** The open file {@code fh}, or null if there is none (a stale handle). */
    OpenFile get(long fh) {
        return files.get(fh);
    }

    /** Forgets {@code fh}; its handle, or null if it was not open. */
    Handle remove(long fh) {
        OpenFile f = files.remove(fh);
        return f == null ? null : f.handle;
    }

    /** How a failure on {@code fh} names the file. */
    String describe(long fh) {
        OpenFile f = files.get(fh);
        return f != null ? f.path : "(file handle " + fh + ")";
    }

    /** The node ids of the open files whose handle {@code matches}, each once. */
    Set<Long> nodesWhere(Predicate<Handle> matches) {
        Set<Long> nodes = new HashSet<>();
        files.values().forEach(f -> {
            long node = f.node;
            if (node != 0 && matches.test(f.handle)) {
                nodes.add(node);
            }
        });
        return nodes;
    }
}
