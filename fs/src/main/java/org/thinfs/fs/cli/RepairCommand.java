package org.thinfs.fs.cli;

import org.thinfs.core.tools.ThinRepair;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "repair", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Rebuild damaged metadata into a new file, as thin_repair does.",
        description = "Rebuild metadata from what can still be read (as thin_repair) into a NEW file; the input is "
                + "never written. Damaged subtrees are skipped and reported. Then swap the files by hand.")
final class RepairCommand implements Callable<Integer> {
    @Option(names = {"-i", "--input"}, required = true, description = "Damaged metadata (a pool directory or file).")
    Path input;

    @Option(names = {"-o", "--output"}, required = true,
            description = "New metadata file (created with the input's size when missing).")
    Path output;

    @Override
    public Integer call() throws Exception {
        Path in = Pools.metadataOf(input);
        if (!Files.exists(output)) {
            Files.createFile(output);
            try (var f = new java.io.RandomAccessFile(output.toFile(), "rw")) {
                f.setLength(Files.size(in));
            }
        }
        ThinRepair.Report r = ThinRepair.repair(in, output);
        for (String p : r.problems()) {
            System.out.println("lost: " + p);
        }
        System.out.printf("repaired %s into %s: %d devices, %d mappings salvaged, %d problems%n", in, output,
                r.devices(), r.mappings(), r.problems().size());
        return 0;
    }
}
