package org.thinfs.core.tools;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.format.Checksums;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.io.Validators;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The engine of {@code thinfs check}: verifies dm-thin metadata as strictly as the kernel reads it and recounts
 * every reference, reporting each problem with the block it concerns. Stricter than thin_check 0.9.0, which
 * ignores the superblock's fields, the data space map's counts, the details and every hint (FORMAT.md 13).
 *
 * <p>What is checked, in order:
 * <ol>
 *   <li>the superblock: not all zero, checksum (a failure stops the check: nothing else can be trusted), magic,
 *       blocknr 0, no incompat or compat_ro feature bits, data_block_size a multiple of 128 in 128..2097152,
 *       metadata_block_size 8, the metadata space map's nr_blocks within the device and the format's limit;</li>
 *   <li>both space maps' structure: the metadata index block or data index btree (every bitmap key present), the
 *       bitmaps they name, the ref-count trees;</li>
 *   <li>the live thin trees and, when held_root is set, the metadata snapshot's copy and its trees (see
 *       {@link TreeChecker} for the node rules and {@link ViewChecker} for the details);</li>
 *   <li>every bitmap's checksum and location, and every block's on-disk count against the references found:
 *       metadata per FORMAT.md 9.1, data per 9.2 (one per distinct device-tree leaf over the live and snapshot
 *       trees).</li>
 * </ol>
 *
 * <p><b>Errors and warnings.</b> An error is anything that is corrupt or that the kernel or the tools would act on
 * wrongly; a warning is legal but wasteful or unusual, and does not fail the check. Errors: any checksum,
 * location, node-rule, key-order or depth violation; a block used by two structures; a reference past the end; a
 * count lower <em>or higher</em> than the references found (a leak is an error here, while thin_check only calls
 * it non-fatal); a bitmap entry of 3 without a ref-count tree entry, a tree entry without a 3, or a count past
 * nr_blocks; different device ids in the details tree and the mapping tree; mapped_blocks different from the
 * mappings found; a mapping to a data block past the data device or stamped after the pool's time; nr_allocated
 * <em>below</em> the number of blocks in use (free space overstated) or above nr_blocks; an index entry's nr_free
 * of 0 for a bitmap with free entries (the kernel's allocator skips such a bitmap, FORMAT.md 7.5 forbids it) or
 * above the bitmap's entries; none_free_before past the end of a bitmap.
 *
 * <p>Warnings, following FORMAT.md 7.5 (hints are never trusted, so a hint that only understates free space wastes
 * space but cannot corrupt): nr_allocated <em>above</em> the blocks in use (thin_restore 0.9.0 writes one too many
 * in the metadata map because it frees its block 8 after the commit); none_free_before above the first free entry
 * (thin_restore leaves 10 while block 8 is free; the allocator just skips those blocks); a non-zero nr_free that
 * matches neither convention (tools: free real entries; kernel: counted against all 16 320 entries), which
 * thin_restore's block 8 also causes (one too few; the kernel keeps that offset when it later updates the entry,
 * as in {@code kernel/restore-snap-cow} and {@code kernel/snap-write}); NEEDS_CHECK set (the kernel
 * keeps such a pool read-only until a clean check clears it); compat_flags bits; a version other than 1 or 2;
 * metadata_nr_blocks different from the device; non-zero bytes after the superblock's 364 used bytes; non-zero
 * index entries past the last bitmap; a device created after its last snapshot or with an id past 24 bits.
 *
 * <p>Never throws on bad metadata and never loops: every node is visited once per tree (a node met twice in one
 * tree is reported), trees deeper than {@value TreeChecker#MAX_DEPTH} are cut, and an unexpected exception
 * becomes an error line.
 */
public final class MetadataChecker {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataChecker.class);

    private final CheckContext ctx;
    private final TreeChecker trees;

    private MetadataChecker(MetadataBlocks blocks, CheckReport report) {
        this.ctx = new CheckContext(blocks, report);
        this.trees = new TreeChecker(ctx);
    }

    /** Checks the metadata file at {@code path}. */
    public static CheckReport check(Path path) {
        try (BlockDevice dev = FileBlockDevice.open(path, false)) {
            return check(dev);
        } catch (IOException e) {
            CheckReport r = new CheckReport();
            r.add(new Problem(Problem.Severity.ERROR, Problem.Space.METADATA, 0, "cannot open " + path + ": "
                    + e.getMessage()));
            return r;
        }
    }

    /** Checks the metadata on {@code device}, which the caller closes. */
    public static CheckReport check(BlockDevice device) {
        CheckReport report = new CheckReport();
        try {
            MetadataChecker c = new MetadataChecker(new MetadataBlocks(device), report);
            c.run();
            LOG.debug("checked {}: {} errors, {} warnings", device, report.errorCount(), report.warningCount());
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            LOG.error("metadata check of {} stopped", device, e);
            report.add(new Problem(Problem.Severity.ERROR, Problem.Space.METADATA, 0,
                    "the check stopped early: " + e));
        }
        return report;
    }

    /** Package-private for tests: the blocks the last check found referenced (for corrupting live blocks). */
    static CountArray referencedBlocks(BlockDevice device) {
        MetadataChecker c = new MetadataChecker(new MetadataBlocks(device), new CheckReport());
        c.run();
        return c.ctx.metadataRefs;
    }

    private void run() {
        long deviceBlocks = ctx.blocks.nrBlocks();
        if (deviceBlocks < 1) {
            ctx.error(0, "the metadata device holds no whole 4096-byte block");
            return;
        }
        Superblock sb = superblock();
        if (sb == null) {
            return;
        }
        ctx.reference(0, "the superblock");
        ctx.claim(0, CheckContext.Role.SUPERBLOCK);
        long metaBlocks = metadataBlocks(sb.metadataSpaceMap(), deviceBlocks);
        ctx.metadataLimit = Math.min(metaBlocks, deviceBlocks);
        long dataBlocks = sb.dataSpaceMap().nrBlocks();
        if (Long.compareUnsigned(dataBlocks, Layout.MAX_DATA_BLOCK + 1) > 0) {
            ctx.error(0, "the data space map's nr_blocks " + Long.toUnsignedString(dataBlocks)
                    + " exceeds the 40-bit block numbers of mappings");
            dataBlocks = Layout.MAX_DATA_BLOCK + 1;
        }
        ctx.dataLimit = dataBlocks;
        SpaceMapChecker metaMap = new SpaceMapChecker(ctx, trees, true, sb.metadataSpaceMap(), metaBlocks);
        SpaceMapChecker dataMap = new SpaceMapChecker(ctx, trees, false, sb.dataSpaceMap(), dataBlocks);
        metaMap.readStructure();
        dataMap.readStructure();
        new ViewChecker(ctx, trees, sb, "live").check();
        if (sb.heldRoot() != 0) {
            heldSnapshot(sb);
        }
        dataMap.compare(ctx.dataRefs);
        metaMap.compare(ctx.metadataRefs);
    }

    private Superblock superblock() {
        ByteBuffer b = ctx.read(0, RAW);
        if (b == null) {
            return null;
        }
        if (MetadataReader.isZero(b)) {
            ctx.error(0, "the superblock is all zeros: the metadata is not formatted");
            return null;
        }
        int want = Checksums.compute(b, Checksums.SUPERBLOCK_XOR);
        if (want != Checksums.stored(b)) {
            ctx.error(0, String.format("bad superblock checksum %08x, expected %08x: nothing else can be trusted",
                    Checksums.stored(b), want));
            return null;
        }
        Superblock sb = Superblock.decode(b);
        SuperblockRules.check(ctx, sb, b, 0, ctx.blocks.nrBlocks());
        return sb;
    }

    private long metadataBlocks(SpaceMapRoot root, long deviceBlocks) {
        long n = root.nrBlocks();
        if (n <= 0 || n > Layout.MAX_METADATA_BLOCKS) {
            ctx.error(0, "the metadata space map's nr_blocks " + Long.toUnsignedString(n) + " is outside 1.."
                    + Layout.MAX_METADATA_BLOCKS);
            return Math.min(deviceBlocks, Layout.MAX_METADATA_BLOCKS);
        }
        if (n > deviceBlocks) {
            ctx.error(0, "the metadata space map manages " + n + " blocks but the device holds only "
                    + deviceBlocks + " (truncated?)");
        }
        return n;
    }

    private void heldSnapshot(Superblock live) {
        long h = live.heldRoot();
        if (!ctx.reference(h, "the superblock's held_root") || !ctx.claim(h,
                CheckContext.Role.SNAPSHOT_SUPERBLOCK)) {
            return;
        }
        ByteBuffer b = ctx.read(h, Validators.SUPERBLOCK);
        if (b == null) {
            return;
        }
        Superblock copy = Superblock.decode(b);
        if (copy.magic() != Layout.MAGIC) {
            ctx.error(h, "metadata snapshot superblock has magic " + copy.magic() + ", wanted " + Layout.MAGIC);
            return;
        }
        if (copy.heldRoot() != 0) {
            ctx.error(h, "metadata snapshot superblock holds a snapshot itself (held_root "
                    + Long.toUnsignedString(copy.heldRoot()) + ")");
        }
        if (!copy.dataSpaceMap().equals(SpaceMapRoot.NONE) || !copy.metadataSpaceMap().equals(SpaceMapRoot.NONE)) {
            ctx.warning(h, "metadata snapshot superblock has non-zero space map roots (the kernel zeroes them)");
        }
        if (Integer.compareUnsigned(copy.time(), live.time()) > 0) {
            ctx.error(h, "metadata snapshot's time " + Integer.toUnsignedString(copy.time())
                    + " is after the live time " + Integer.toUnsignedString(live.time()));
        }
        new ViewChecker(ctx, trees, copy, "metadata snapshot").check();
    }

    /** Reads without validation: the superblock's problems are reported one by one. */
    private static final org.thinfs.core.io.BlockValidator RAW = new org.thinfs.core.io.BlockValidator() {
        @Override
        public String name() {
            return "raw";
        }

        @Override
        public void prepareForWrite(ByteBuffer block, long nr) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void check(ByteBuffer block, long nr) {
        }
    };
}
