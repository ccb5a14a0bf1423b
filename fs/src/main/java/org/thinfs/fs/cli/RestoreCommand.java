package org.thinfs.fs.cli;

import org.thinfs.core.tools.ThinRestore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "restore", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = "Write new metadata from thin_dump's XML (the output file must exist and be large enough).")
final class RestoreCommand implements Callable<Integer> {
    @Option(names = {"-i", "--input"}, required = true, description = "XML dump to read.")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, description = "Metadata file to write.")
    Path output;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(output)) {
            throw new Main.UsageError("output file " + output + " must exist (truncate -s 4M " + output + ")");
        }
        ThinRestore.restore(input, output);
        System.out.println("restored " + input + " into " + output);
        return 0;
    }
}
