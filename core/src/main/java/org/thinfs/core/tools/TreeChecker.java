package org.thinfs.core.tools;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.btree.Node;
import org.thinfs.core.io.Validators;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Walks btrees for {@link MetadataChecker}, checking every node once however many trees share it:
 * <ul>
 *   <li>per node: checksum and location, then {@link Node#validate} (flags, value size, max_entries, nr_entries,
 *       ascending keys);</li>
 *   <li>across nodes (FORMAT.md 5.1): a non-root node holds at least max_entries / 3 entries; the parent's key for
 *       a child is at most every key below it and the next parent key is above every key below it (so lookups
 *       find every key and leaves' keys increase across the tree); all leaves are at the same depth; no node is
 *       reached twice within one tree (cycles), no tree is deeper than {@value #MAX_DEPTH} levels; a node is used
 *       by one kind of tree only.</li>
 * </ul>
 * Each child pointer of each distinct internal node counts one metadata reference (FORMAT.md 9.1). A subtree met
 * again (a snapshot's shared subtree) is not walked again: its {@link Summary} answers for it, so the walk costs
 * one read per distinct node. Problems are reported, never thrown; a damaged subtree yields an incomplete summary.
 */
final class TreeChecker {
    static final int MAX_DEPTH = org.thinfs.core.btree.NodeWalker.MAX_DEPTH;

    /** Receives leaves. */
    interface LeafHandler {
        /** Called once per distinct leaf over the whole check (reference counting goes here). */
        default void firstVisit(Node leaf) {
        }

        /** Called for every leaf of every walk of a {@link TreeKind#rereadShared} tree, and on first visits. */
        default void entries(Node leaf) {
        }
    }

    /**
     * What a checked subtree holds. {@code complete} is false when some node below could not be used, in which
     * case {@code entries} and the key range are lower bounds only.
     */
    record Summary(TreeKind kind, boolean complete, int height, int nrEntries, int maxEntries, long entries,
                   boolean empty, long minKey, long maxKey) {
        static final Summary BAD = new Summary(null, false, -1, 0, 0, 0, true, 0, 0);
    }

    private final CheckContext ctx;
    private final Map<Long, Summary> checked = new HashMap<>();

    TreeChecker(CheckContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Checks the tree rooted at {@code root} (whose own reference the caller counts) and returns its summary.
     * {@code name} names the tree in messages.
     */
    Summary walk(long root, TreeKind kind, String name, LeafHandler handler) {
        return visit(root, kind, name, handler, new HashSet<>(), 0);
    }

    private Summary visit(long nr, TreeKind kind, String name, LeafHandler h, Set<Long> inTree, int depth) {
        if (nr < 0 || nr >= ctx.metadataLimit) {
            return Summary.BAD;
        }
        if (depth > MAX_DEPTH) {
            ctx.error(nr, name + " is deeper than " + MAX_DEPTH + " levels");
            return Summary.BAD;
        }
        if (!inTree.add(nr)) {
            ctx.error(nr, "btree node reached twice within the " + name + " (a cycle or a duplicated pointer)");
            return Summary.BAD;
        }
        Summary known = checked.get(nr);
        if (known != null) {
            if (known.kind() != kind && known.kind() != null) {
                ctx.error(nr, "node of the " + known.kind().title + " is also used in the " + name);
                return Summary.BAD;
            }
            if (kind.rereadShared && known.complete()) {
                reread(nr, h, inTree, depth);
            }
            return known;
        }
        checked.put(nr, Summary.BAD);
        if (!ctx.claim(nr, CheckContext.Role.of(kind))) {
            return Summary.BAD;
        }
        ByteBuffer buf = ctx.read(nr, Validators.NODE);
        if (buf == null) {
            return Summary.BAD;
        }
        Node n = new Node(buf, nr);
        try {
            n.validate(kind.valueSize);
        } catch (CorruptMetadataException e) {
            ctx.error(nr, "in the " + name + ": " + e.getMessage().replaceFirst("^metadata block \\d+: ", ""));
            return Summary.BAD;
        }
        Summary s = n.isLeaf() ? leaf(n, kind, h) : internal(n, kind, name, h, inTree, depth);
        checked.put(nr, s);
        return s;
    }

    private Summary leaf(Node n, TreeKind kind, LeafHandler h) {
        h.firstVisit(n);
        h.entries(n);
        int c = n.nrEntries();
        return new Summary(kind, true, 0, c, n.maxEntries(), c, c == 0, c == 0 ? 0 : n.key(0),
                c == 0 ? 0 : n.key(c - 1));
    }

    private Summary internal(Node n, TreeKind kind, String name, LeafHandler h, Set<Long> inTree, int depth) {
        long nr = n.blocknr();
        int c = n.nrEntries();
        if (c == 0) {
            ctx.error(nr, "internal node of the " + name + " has no entries");
            return Summary.BAD;
        }
        boolean complete = true;
        int height = -1;
        long entries = 0;
        boolean empty = true;
        long min = 0;
        long max = 0;
        for (int i = 0; i < c; i++) {
            long child = n.valueLong(i);
            if (!ctx.reference(child, "child " + i + " of " + name + " node " + nr)) {
                complete = false;
                continue;
            }
            Summary s = visit(child, kind, name, h, inTree, depth + 1);
            if (s.kind() == null) {
                complete = false;
                continue;
            }
            complete &= s.complete();
            if (s.nrEntries() < s.maxEntries() / 3) {
                ctx.error(child, "too few entries in " + name + " node: " + s.nrEntries() + ", expected at least "
                        + s.maxEntries() / 3 + " (max " + s.maxEntries() + ")");
            }
            if (height < 0) {
                height = s.height();
            } else if (height != s.height()) {
                ctx.error(child, name + " leaves are at different depths: this subtree has height " + s.height()
                        + ", its siblings " + height);
                complete = false;
            }
            entries += s.entries();
            if (s.empty()) {
                continue;
            }
            if (Long.compareUnsigned(s.minKey(), n.key(i)) < 0) {
                ctx.error(child, "parent key mismatch in the " + name + ": parent " + nr + " has key "
                        + Long.toUnsignedString(n.key(i)) + ", but the lowest key below is "
                        + Long.toUnsignedString(s.minKey()));
            }
            if (i + 1 < c && Long.compareUnsigned(s.maxKey(), n.key(i + 1)) >= 0) {
                ctx.error(child, "key " + Long.toUnsignedString(s.maxKey()) + " in the " + name
                        + " is not below the parent's next key " + Long.toUnsignedString(n.key(i + 1))
                        + " (parent " + nr + "): lookups cannot find it");
            }
            if (!empty && Long.compareUnsigned(s.minKey(), max) <= 0) {
                ctx.error(child, "keys out of order in the " + name + ": the last key of the previous subtree was "
                        + Long.toUnsignedString(max) + ", this one starts at " + Long.toUnsignedString(s.minKey()));
            }
            if (empty) {
                min = s.minKey();
                empty = false;
            }
            max = s.maxKey();
        }
        if (height < 0) {
            return Summary.BAD;
        }
        return new Summary(kind, complete, height + 1, c, n.maxEntries(), entries, empty, min, max);
    }

    /** Reads an already checked subtree again to hand its leaves' entries to {@code h}; counts nothing. */
    private void reread(long nr, LeafHandler h, Set<Long> inTree, int depth) {
        ByteBuffer buf = ctx.read(nr, Validators.NODE);
        if (buf == null || depth > MAX_DEPTH) {
            return;
        }
        Node n = new Node(buf, nr);
        if (n.isLeaf()) {
            h.entries(n);
            return;
        }
        for (int i = 0; i < n.nrEntries(); i++) {
            long child = n.valueLong(i);
            if (child >= 0 && child < ctx.metadataLimit && inTree.add(child)) {
                reread(child, h, inTree, depth + 1);
            }
        }
    }
}
