package org.thinfs.core.tools;

import org.thinfs.core.btree.Node;
import org.thinfs.core.format.IndexEntry;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.io.Validators;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks one space map (FORMAT.md 7) in two phases. {@link #readStructure} follows the root: the metadata map's
 * index block or the data map's index btree, the bitmap blocks they name, and the ref-count tree, counting a
 * metadata reference for each. {@link #compare} runs once every reference is known: it reads each bitmap, checks
 * its checksum and location, and compares each block's on-disk count (2-bit entry, or the ref-count tree's value
 * when the entry is 3) with the references found, then checks the hints: index entries' nr_free and
 * none_free_before, and the root's nr_allocated. See {@link MetadataChecker} for what is an error and what a
 * warning.
 */
final class SpaceMapChecker {
    private final CheckContext ctx;
    private final TreeChecker trees;
    private final boolean metadata;
    private final String name;
    private final SpaceMapRoot root;
    private final long nrBlocks;
    private final List<IndexEntry> index = new ArrayList<>();
    private final RefCountEntries refCounts = new RefCountEntries();
    private boolean indexComplete = true;

    SpaceMapChecker(CheckContext ctx, TreeChecker trees, boolean metadata, SpaceMapRoot root, long nrBlocks) {
        this.ctx = ctx;
        this.trees = trees;
        this.metadata = metadata;
        this.name = metadata ? "metadata space map" : "data space map";
        this.root = root;
        this.nrBlocks = nrBlocks;
    }

    void readStructure() {
        long bitmaps = Layout.bitmapCount(nrBlocks);
        if (metadata) {
            readIndexBlock(bitmaps);
        } else {
            readIndexTree(bitmaps);
        }
        for (int k = 0; k < index.size(); k++) {
            IndexEntry e = index.get(k);
            if (e == null) {
                continue;
            }
            if (!ctx.reference(e.blocknr(), name + " index entry " + k) || !ctx.claim(e.blocknr(),
                    CheckContext.Role.BITMAP)) {
                index.set(k, null);
                indexComplete = false;
            }
        }
        TreeKind kind = metadata ? TreeKind.METADATA_REF_COUNT : TreeKind.DATA_REF_COUNT;
        if (ctx.reference(root.refCountRoot(), name + " ref-count root")) {
            TreeChecker.Summary s = trees.walk(root.refCountRoot(), kind, kind.title, new TreeChecker.LeafHandler() {
                @Override
                public void firstVisit(Node leaf) {
                    for (int i = 0; i < leaf.nrEntries(); i++) {
                        refCounts.add(leaf.key(i), Integer.toUnsignedLong(leaf.buffer().getInt(leaf.valueOffset(i))));
                    }
                }
            });
            indexComplete &= s.complete();
        } else {
            indexComplete = false;
        }
        refCounts.finish();
    }

    private void readIndexBlock(long bitmaps) {
        long nr = root.bitmapRoot();
        if (!ctx.reference(nr, name + " root") || !ctx.claim(nr, CheckContext.Role.METADATA_INDEX)) {
            indexComplete = false;
            return;
        }
        ByteBuffer b = ctx.read(nr, Validators.INDEX);
        if (b == null) {
            indexComplete = false;
            return;
        }
        for (int k = 0; k < Layout.METADATA_INDEX_ENTRIES; k++) {
            IndexEntry e = IndexEntry.decode(b, Layout.BITMAP_HEADER + k * IndexEntry.SIZE);
            if (k < bitmaps) {
                index.add(e);
            } else if (e.blocknr() != 0 || e.nrFree() != 0 || e.noneFreeBefore() != 0) {
                ctx.warning(nr, "index entry " + k + " is not zero although the map needs only " + bitmaps
                        + " bitmaps");
            }
        }
    }

    private void readIndexTree(long bitmaps) {
        if (!ctx.reference(root.bitmapRoot(), name + " root")) {
            indexComplete = false;
            return;
        }
        List<long[]> keys = new ArrayList<>();
        List<IndexEntry> entries = new ArrayList<>();
        TreeChecker.Summary s = trees.walk(root.bitmapRoot(), TreeKind.DATA_INDEX, TreeKind.DATA_INDEX.title,
                new TreeChecker.LeafHandler() {
                    @Override
                    public void firstVisit(Node leaf) {
                        for (int i = 0; i < leaf.nrEntries(); i++) {
                            keys.add(new long[]{leaf.key(i), leaf.blocknr()});
                            entries.add(IndexEntry.decode(leaf.buffer(), leaf.valueOffset(i)));
                        }
                    }
                });
        indexComplete &= s.complete();
        for (int k = 0; k < bitmaps; k++) {
            index.add(null);
        }
        for (int i = 0; i < keys.size(); i++) {
            long key = keys.get(i)[0];
            if (key < 0 || key >= bitmaps) {
                ctx.error(keys.get(i)[1], "data space map index tree has an entry for bitmap " + Long.toUnsignedString(
                        key) + ", but " + nrBlocks + " blocks need only " + bitmaps + " bitmaps");
            } else {
                index.set((int) key, entries.get(i));
            }
        }
        for (int k = 0; k < bitmaps; k++) {
            if (index.get(k) == null && s.complete()) {
                ctx.error(root.bitmapRoot(), "data space map index tree lacks an entry for bitmap " + k);
            }
        }
    }

    /**
     * Compares the on-disk counts with {@code found} (references per block) and checks the hints; nr_allocated
     * only when every bitmap could be read.
     */
    void compare(CountArray found) {
        long allocated = 0;
        boolean countsKnown = indexComplete;
        for (int k = 0; k < index.size(); k++) {
            IndexEntry e = index.get(k);
            long first = (long) k * Layout.ENTRIES_PER_BITMAP;
            ByteBuffer bm = e == null ? null : ctx.read(e.blocknr(), Validators.BITMAP);
            if (bm == null) {
                countsKnown = false;
                skipRefCounts(first + Layout.ENTRIES_PER_BITMAP);
                continue;
            }
            int real = (int) Math.min(Layout.ENTRIES_PER_BITMAP, nrBlocks - first);
            int free = 0;
            int firstFree = -1;
            for (int i = 0; i < Layout.ENTRIES_PER_BITMAP; i++) {
                int v = entry(bm, i);
                long block = first + i;
                if (i >= real) {
                    if (v != 0) {
                        ctx.error(e.blocknr(), name + " bitmap " + k + " has count " + v + " for block " + block
                                + ", past the map's " + nrBlocks + " blocks");
                    }
                    continue;
                }
                staleTreeEntries(block);
                long onDisk = v;
                if (v == 3) {
                    onDisk = treeCount(block);
                } else if (refCounts.peekKey() == block) {
                    problem(block, "the " + name + "'s ref-count tree holds count " + refCounts.peekCount()
                            + ", but its bitmap entry is " + v);
                    refCounts.advance();
                }
                if (onDisk == 0) {
                    free++;
                    if (firstFree < 0) {
                        firstFree = i;
                    }
                } else {
                    allocated++;
                }
                long refs = found.get(block);
                if (onDisk >= 0 && onDisk != refs) {
                    mismatch(block, onDisk, refs);
                }
            }
            checkHints(k, e, real, free, firstFree);
        }
        skipRefCounts(Long.MAX_VALUE);
        if (countsKnown) {
            checkAllocated(allocated);
        }
    }

    /** The tree's count for a block whose entry is 3, or -1 (reported) when the tree has none. */
    private long treeCount(long block) {
        if (refCounts.peekKey() == block) {
            long c = refCounts.peekCount();
            refCounts.advance();
            if (c < 3) {
                problem(block, "its bitmap entry is 3 but the " + name + "'s ref-count tree holds " + c);
            }
            return c;
        }
        problem(block, "its bitmap entry is 3 but the " + name + "'s ref-count tree has no entry for it"
                + " (ref count not in tree)");
        return -1;
    }

    /** Reports ref-count tree entries below {@code block} that no bitmap entry of 3 asked for. */
    private void staleTreeEntries(long block) {
        while (refCounts.peekKey() >= 0 && Long.compareUnsigned(refCounts.peekKey(), block) < 0) {
            problem(refCounts.peekKey(), "the " + name + "'s ref-count tree holds count " + refCounts.peekCount()
                    + ", but its bitmap entry is not 3");
            refCounts.advance();
        }
    }

    private void skipRefCounts(long below) {
        while (refCounts.peekKey() >= 0 && Long.compareUnsigned(refCounts.peekKey(), below) < 0) {
            long key = refCounts.peekKey();
            if (key >= nrBlocks) {
                ctx.error(root.refCountRoot(), "the " + name + "'s ref-count tree has an entry for block "
                        + Long.toUnsignedString(key) + ", past the map's " + nrBlocks + " blocks");
            }
            refCounts.advance();
        }
    }

    private void mismatch(long block, long onDisk, long refs) {
        String what = metadata ? "metadata" : "data";
        if (onDisk < refs) {
            problem(block, what + " reference count too low: " + onDisk + " on disk, but " + refs
                    + " references found");
        } else {
            problem(block, what + " block leaked: reference count " + onDisk + " on disk, but " + refs
                    + " references found");
        }
    }

    private void checkHints(int k, IndexEntry e, int real, int free, int firstFree) {
        long nr = metadata ? root.bitmapRoot() : e.blocknr();
        long nrFree = Integer.toUnsignedLong(e.nrFree());
        long freeAll = free + (long) (Layout.ENTRIES_PER_BITMAP - real);
        if (nrFree != free && nrFree != freeAll) {
            String msg = name + " index entry " + k + " says " + nrFree + " free blocks, but its bitmap has " + free
                    + " of " + real + " entries free";
            if (nrFree > freeAll) {
                ctx.error(nr, msg + ": more than the bitmap holds");
            } else if (nrFree == 0) {
                ctx.error(nr, msg + ": the kernel's allocator skips a bitmap whose nr_free is 0");
            } else {
                ctx.warning(nr, msg);
            }
        }
        long nfb = Integer.toUnsignedLong(e.noneFreeBefore());
        if (nfb > Layout.ENTRIES_PER_BITMAP) {
            ctx.error(nr, name + " index entry " + k + " has none_free_before " + nfb + ", past the bitmap's "
                    + Layout.ENTRIES_PER_BITMAP + " entries");
        } else if (firstFree >= 0 && nfb > firstFree) {
            ctx.warning(nr, name + " index entry " + k + " has none_free_before " + nfb + " but entry " + firstFree
                    + " is free: the allocator will not hand out blocks below " + nfb);
        }
    }

    private void checkAllocated(long allocated) {
        long said = root.nrAllocated();
        if (said == allocated) {
            return;
        }
        String msg = name + " root says " + Long.toUnsignedString(said) + " blocks allocated, the bitmaps hold "
                + allocated;
        if (Long.compareUnsigned(said, nrBlocks) > 0) {
            ctx.error(0, msg + ", and the map has only " + nrBlocks + " blocks");
        } else if (Long.compareUnsigned(said, allocated) < 0) {
            ctx.error(0, msg + ": free space is overstated");
        } else {
            ctx.warning(0, msg + ": free space is understated");
        }
    }

    private void problem(long block, String message) {
        if (metadata) {
            ctx.error(block, message);
        } else {
            ctx.dataError(block, message);
        }
    }

    /** Entry {@code i} of a bitmap block: bit 2(i mod 4) of byte 16 + i/4 is the high bit (FORMAT.md 7.2). */
    static int entry(ByteBuffer bitmap, int i) {
        int b = bitmap.get(Layout.BITMAP_HEADER + (i >>> 2)) & 0xFF;
        int shift = 2 * (i & 3);
        return ((b >>> shift) & 1) << 1 | ((b >>> (shift + 1)) & 1);
    }
}
