package org.thinfs.core.tools;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.StorageIOException;
import org.thinfs.core.io.BlockValidator;

import java.nio.ByteBuffer;

/**
 * State shared by the parts of one check: the blocks, the report, the metadata references found so far (FORMAT.md
 * 9.1) and the role each metadata block was first used in, so a block claimed by two structures is reported.
 */
final class CheckContext {
    /** What a metadata block is used as; a block may have one role only. */
    enum Role {
        FREE, SUPERBLOCK, SNAPSHOT_SUPERBLOCK, METADATA_INDEX, BITMAP, NODE_TOP_LEVEL, NODE_DEVICE, NODE_DETAILS,
        NODE_DATA_INDEX, NODE_METADATA_REF_COUNT, NODE_DATA_REF_COUNT;

        static Role of(TreeKind k) {
            return switch (k) {
                case TOP_LEVEL -> NODE_TOP_LEVEL;
                case DEVICE -> NODE_DEVICE;
                case DETAILS -> NODE_DETAILS;
                case DATA_INDEX -> NODE_DATA_INDEX;
                case METADATA_REF_COUNT -> NODE_METADATA_REF_COUNT;
                case DATA_REF_COUNT -> NODE_DATA_REF_COUNT;
            };
        }

        String title() {
            return switch (this) {
                case FREE -> "free";
                case SUPERBLOCK -> "the superblock";
                case SNAPSHOT_SUPERBLOCK -> "the metadata snapshot's superblock";
                case METADATA_INDEX -> "the metadata space map index block";
                case BITMAP -> "a space map bitmap";
                default -> "a node of the " + TreeKind.values()[ordinal() - NODE_TOP_LEVEL.ordinal()].title;
            };
        }
    }

    final MetadataBlocks blocks;
    final CheckReport report;
    /** Metadata references found, per block. */
    final CountArray metadataRefs = new CountArray();
    /** Data references found: per data block, the distinct device-tree leaves mapping it (FORMAT.md 9.2). */
    final CountArray dataRefs = new CountArray();
    /** Blocks a reference may name: below the metadata space map's nr_blocks and the device's size. */
    long metadataLimit;
    /** The data space map's nr_blocks; mappings must stay below it. */
    long dataLimit;
    private final byte[] roles;

    CheckContext(MetadataBlocks blocks, CheckReport report) {
        this.blocks = blocks;
        this.report = report;
        this.metadataLimit = blocks.nrBlocks();
        this.roles = new byte[(int) Math.min(blocks.nrBlocks(), org.thinfs.core.format.Layout.MAX_METADATA_BLOCKS)];
    }

    void error(long block, String message) {
        report.add(new Problem(Problem.Severity.ERROR, Problem.Space.METADATA, block, message));
    }

    void warning(long block, String message) {
        report.add(new Problem(Problem.Severity.WARNING, Problem.Space.METADATA, block, message));
    }

    void dataError(long block, String message) {
        report.add(new Problem(Problem.Severity.ERROR, Problem.Space.DATA, block, message));
    }

    void dataWarning(long block, String message) {
        report.add(new Problem(Problem.Severity.WARNING, Problem.Space.DATA, block, message));
    }

    /**
     * Records one reference to metadata block {@code nr} from {@code from} (a description for the message).
     * Returns whether the block can be followed: inside the metadata device and its space map.
     */
    boolean reference(long nr, String from) {
        if (nr < 0 || nr >= metadataLimit) {
            error(nr, from + " points past the end of the metadata ("
                    + metadataLimit + " usable blocks)");
            return false;
        }
        metadataRefs.increment(nr);
        return true;
    }

    /** Claims {@code nr} for {@code role}; reports and returns false if it already has another role. */
    boolean claim(long nr, Role role) {
        if (nr < 0 || nr >= roles.length) {
            return false;
        }
        Role had = Role.values()[roles[(int) nr]];
        if (had == Role.FREE) {
            roles[(int) nr] = (byte) role.ordinal();
            return true;
        }
        if (had == role) {
            return true;
        }
        error(nr, "used as " + role.title() + " but already used as " + had.title());
        return false;
    }

    Role role(long nr) {
        return nr >= 0 && nr < roles.length ? Role.values()[roles[(int) nr]] : Role.FREE;
    }

    /** Reads and validates a block; reports and returns null when it cannot be read or fails validation. */
    ByteBuffer read(long nr, BlockValidator validator) {
        try {
            return blocks.read(nr, validator);
        } catch (CorruptMetadataException e) {
            error(nr, e.getMessage().replaceFirst("^metadata block \\d+: ", ""));
        } catch (StorageIOException e) {
            error(nr, "cannot be read: " + e.getMessage());
        }
        return null;
    }
}
