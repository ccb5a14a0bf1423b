package org.thinfs.fs.cli;

import org.thinfs.core.tools.JsonDumpWriter;
import org.thinfs.core.tools.MetadataReader;
import org.thinfs.core.tools.MetadataVisitor;
import org.thinfs.core.tools.XmlDumpWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "dump", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = "Print a pool's devices and mappings: thin_dump's XML (thin_restore accepts it) or JSON.")
final class DumpCommand implements Callable<Integer> {
    enum Format { xml, json }

    @Parameters(index = "0", paramLabel = "POOL|METADATA")
    Path target;

    @Option(names = "--format", defaultValue = "xml", description = "xml or json (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = {"-m", "--metadata-snap"}, description = "Dump through the metadata snapshot (held root).")
    boolean viaSnapshot;

    @Option(names = {"-o", "--output"}, description = "Write to FILE instead of stdout.")
    Path output;

    @Override
    public Integer call() throws Exception {
        Path meta = Pools.metadataOf(target);
        try (Writer w = output == null
                ? new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16)
                : Files.newBufferedWriter(output)) {
            MetadataVisitor v = format == Format.xml ? new XmlDumpWriter(w) : new JsonDumpWriter(w, true);
            MetadataReader.dump(meta, viaSnapshot, v);
            w.flush();
        }
        return 0;
    }
}
