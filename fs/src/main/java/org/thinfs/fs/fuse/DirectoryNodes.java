package org.thinfs.fs.fuse;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel's node id of each directory of the mount it has looked names up in, learned from the requests
 * themselves: libfuse2 numbers the nodes and keeps the numbers to itself, but a request that names an entry of a
 * directory (LOOKUP, MKDIR, CREATE...) carries the directory's node id, and libfuse2 asks for the entry's
 * attributes by path while it serves that request. So the path's parent is that node. What it is for: telling the
 * kernel to forget a name in that directory (NameForgetter).
 *
 * <p>A node id the kernel has since forgotten stays here until the directory is looked in again; using it is
 * harmless (the kernel answers ENOENT). The root is node 1 always.
 */
final class DirectoryNodes {
    /** Opcodes whose header names the parent directory of the path libfuse2 then asks attributes for. */
    private static final int LOOKUP = 1;
    private static final int SYMLINK = 6;
    private static final int MKNOD = 8;
    private static final int MKDIR = 9;
    private static final int LINK = 13;
    private static final int CREATE = 35;

    private final ConcurrentHashMap<String, Long> nodes = new ConcurrentHashMap<>();

    /** libfuse2 asks the attributes of {@code path} while it serves request {@code opcode} on node {@code node}. */
    void sawAttributesAsked(String path, int opcode, long node) {
        if (opcode != LOOKUP && opcode != MKDIR && opcode != CREATE && opcode != MKNOD && opcode != LINK
                && opcode != SYMLINK || path == null) {
            return;
        }
        int slash = path.lastIndexOf('/');
        if (slash > 0) {                                 // the root's own number is known
            Long old = nodes.get(path.substring(0, slash));
            if (old == null || old != node) {
                nodes.put(path.substring(0, slash), node);
            }
        }
    }

    /** The node id of directory {@code dir} ("/" or "/a/b"), or -1 when no name in it was looked up yet. */
    long nodeOf(String dir) {
        if (dir.equals("/")) {
            return 1;
        }
        Long n = nodes.get(dir);
        return n == null ? -1 : n;
    }

    /** {@code dir} and everything below it are gone (a snapshot set removed or renamed). */
    void forget(String dir) {
        nodes.keySet().removeIf(d -> d.equals(dir) || d.startsWith(dir + "/"));
    }
}
