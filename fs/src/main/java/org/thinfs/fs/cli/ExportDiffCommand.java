package org.thinfs.fs.cli;

import org.thinfs.core.diff.BlockDelta;
import org.thinfs.core.diff.DiffExporter;
import org.thinfs.fs.model.Catalog;
import org.thinfs.fs.model.PoolFileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "export-diff", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Write the changes between two volumes or snapshots as a diff stream.",
        description = "Write what turns volume A into volume B (changed blocks with their data, and unmapped "
                + "ranges) as a checksummed stream; A may be '-' for a full export. Format: core/.../diff/DiffFormat.")
final class ExportDiffCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL")
    Path dir;

    @Parameters(index = "1", paramLabel = "A", description = "Base: snapshots/SET/NAME, a volume, '#BOOKMARK/NAME' "
            + "(what NAME wrote since the bookmarked snapshot), or '-'.")
    String base;

    @Parameters(index = "2", paramLabel = "B", description = "Target volume or snapshot volume.")
    String target;

    @Parameters(index = "3", paramLabel = "OUT", description = "Stream file to write ('-' for stdout).")
    String out;

    @picocli.CommandLine.Option(names = "--format", defaultValue = "thinfs",
            description = "thinfs (checksummed, the default) or rbd (Ceph's 'rbd diff v1', for rbd import-diff).")
    String format;

    @picocli.CommandLine.Option(names = "--from-snap", description = "rbd: the from-snapshot name "
            + "(default: A's snapshot set; none for '-').")
    String fromSnap;

    @picocli.CommandLine.Option(names = "--to-snap", description = "rbd: the to-snapshot name "
            + "(default: B's snapshot set; none for a live volume).")
    String toSnap;

    @Override
    public Integer call() throws Exception {
        if (!format.equals("thinfs") && !format.equals("rbd")) {
            throw new Main.UsageError("--format is thinfs or rbd, not " + format);
        }
        if (format.equals("thinfs") && (fromSnap != null || toSnap != null)) {
            throw new Main.UsageError("--from-snap and --to-snap go with --format rbd");
        }
        PoolDir pool = Pools.requirePool(dir);
        try (PoolFileSystem fs = Pools.openFileSystem(pool, true)) {
            Catalog.Entry b = fs.resolve(target);
            if (base.startsWith("#")) {
                return fromBookmark(fs, b);
            }
            long a = base.equals("-") ? -1 : fs.resolve(base).id;
            try (OutputStream os = out.equals("-") ? System.out
                    : new BufferedOutputStream(Files.newOutputStream(Path.of(out)), 1 << 20)) {
                DiffExporter.Stats s = format.equals("rbd")
                        ? org.thinfs.core.diff.RbdDiff.export(fs.pool(), a, b.id, b.size,
                                fromSnap != null ? fromSnap : base.equals("-") ? null : setOf(base),
                                toSnap != null ? toSnap : setOf(target), os)
                        : DiffExporter.export(fs.pool(), a, b.id, b.size,
                                base.equals("-") ? "" : baseIdentity(fs, base), fs.identity(target), os);
                if (!out.equals("-")) {
                    System.out.printf("wrote %s: %s changed, %s unmapped%n", out, Sizes.human(s.changedBytes()),
                            Sizes.human(s.zeroedBytes()));
                }
            }
        }
        return 0;
    }

    /**
     * From a bookmark ({@code #NAME/VOLUME}): everything the target wrote since the bookmarked snapshot, and every
     * unmapped range as zeros; the base identity is the bookmarked snapshot's, so a receiver applies it only there.
     */
    private int fromBookmark(PoolFileSystem fs, Catalog.Entry b) throws Exception {
        int slash = base.indexOf('/');
        if (slash < 2 || slash == base.length() - 1) {
            throw new Main.UsageError("a bookmark base is #NAME/VOLUME, not '" + base + "'");
        }
        String name = base.substring(1, slash);
        Catalog.BookmarkVolume v = fs.snapshots().bookmarkFor(name, base.substring(slash + 1), target);
        BlockDelta.Scan delta = BlockDelta.writtenSince(fs.pool(), b.id, v.since);
        try (OutputStream os = out.equals("-") ? System.out
                : new BufferedOutputStream(Files.newOutputStream(Path.of(out)), 1 << 20)) {
            DiffExporter.Stats s = format.equals("rbd")
                    ? org.thinfs.core.diff.RbdDiff.export(fs.pool(), delta, b.id, b.size,
                            fromSnap != null ? fromSnap : fs.snapshots().bookmarks().get(name).set,
                            toSnap != null ? toSnap : setOf(target), os)
                    : DiffExporter.export(fs.pool(), delta, b.id, b.size, v.identity == null ? "" : v.identity,
                            fs.identity(target), os);
            if (!out.equals("-")) {
                System.out.printf("wrote %s: %s changed, %s unmapped (since bookmark %s)%n", out,
                        Sizes.human(s.changedBytes()), Sizes.human(s.zeroedBytes()), name);
            }
        }
        return 0;
    }

    /**
     * An incremental stream must name its base, or the receiver could apply it on top of anything: the base must be
     * a snapshot volume of a pool that has a uuid (any pool mounted once by this thinfs).
     */
    private static String baseIdentity(PoolFileSystem fs, String base) {
        String id = fs.identity(base);
        if (id.isEmpty()) {
            throw new Main.UsageError("the base " + base + " has no identity a receiver could check: give a snapshot "
                    + "volume (snapshots/SET/NAME)" + (base.startsWith("snapshots/") ? " of a pool mounted once by "
                    + "this thinfs (which gives it a uuid)" : "") + ", or '-' for a full stream");
        }
        return id;
    }

    /** The snapshot set of {@code snapshots/SET/NAME}, or null for anything else. */
    private static String setOf(String name) {
        String[] p = name.split("/");
        return p.length == 3 && p[0].equals("snapshots") ? p[1] : null;
    }
}
