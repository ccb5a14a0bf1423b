package org.thinfs.fs.cli;

import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.thin.ThinMetadata;
import org.thinfs.core.tools.CheckReport;
import org.thinfs.core.tools.MetadataChecker;
import org.thinfs.core.tools.Problem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "check", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Verify a pool's metadata, as thin_check does.",
        description = {"Verify metadata: checksums, btree structure, every reference count of both space maps, "
                + "device details against mappings. Exit 0 when clean, 1 when a problem is found.",
                "Shows a progress bar on a terminal for large metadata."})
final class CheckCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL|METADATA")
    Path target;

    @Option(names = {"-q", "--quiet"}, description = "Print nothing; only the exit code tells.")
    boolean quiet;

    @Option(names = "--clear-needs-check-flag", description = "After a clean check, clear NEEDS_CHECK.")
    boolean clearNeedsCheck;

    @Override
    public Integer call() throws Exception {
        Path meta = Pools.metadataOf(target);
        CheckReport report;
        try (BlockDevice dev = ProgressBar.wrap(FileBlockDevice.open(meta, false), "checking", quiet)) {
            report = MetadataChecker.check(dev);
        }
        if (!quiet) {
            for (Problem p : report.problems()) {
                System.out.println(p);
            }
            System.out.printf("%s: %d error(s), %d warning(s)%n", meta, report.errorCount(), report.warningCount());
        }
        if (report.isClean() && clearNeedsCheck) {
            try (FileBlockDevice dev = FileBlockDevice.open(meta, true)) {
                ThinMetadata.clearNeedsCheck(dev);
            }
        }
        return report.isClean() ? 0 : 1;
    }
}
