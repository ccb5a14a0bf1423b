package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.tools.DeltaRange;
import org.thinfs.core.tools.MetadataReader;
import org.thinfs.core.tools.ThinDelta;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "delta", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = "Block ranges that differ between two devices or snapshots (as thin_delta): the base of "
                + "incremental backups.")
final class DeltaCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "POOL|METADATA")
    Path target;

    @Parameters(index = "1", paramLabel = "A", description = "Volume name, snapshots/SET/NAME, or device id.")
    String left;

    @Parameters(index = "2", paramLabel = "B")
    String right;

    @Option(names = "--json", description = "JSON instead of thin_delta's XML.")
    boolean json;

    @Option(names = {"-m", "--metadata-snap"},
            description = "Compare as of the held metadata snapshot ('thinfs metadata-snap POOL hold'), as thin_delta -m.")
    boolean metadataSnap;

    @Override
    public Integer call() throws Exception {
        Path meta = Pools.metadataOf(target);
        try (FileBlockDevice dev = FileBlockDevice.open(meta, false)) {
            long held = MetadataReader.open(dev, false).superblock().heldRoot();
            if (metadataSnap && held == 0) {
                throw new Main.UsageError("no metadata snapshot is held; take one with 'thinfs metadata-snap "
                        + target + " hold'");
            }
            MetadataReader reader = MetadataReader.open(dev, metadataSnap);
            DeviceNames names = DeviceNames.of(target, reader.header().transaction());
            long a = names.id(left);
            long b = names.id(right);
            for (long id : new long[]{a, b}) {
                if (!reader.deviceRoots().containsKey(id)) {
                    throw new Main.UsageError("the pool has no thin device " + id);
                }
            }
            Writer w = new OutputStreamWriter(System.out, StandardCharsets.UTF_8);
            if (json) {
                List<DeltaRange> ranges = ThinDelta.compute(reader.mappingList(a), reader.mappingList(b));
                List<Map<String, Object>> out = new ArrayList<>();
                for (DeltaRange r : ranges) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("kind", r.kind().xmlName());
                    m.put("begin", r.begin());
                    m.put("length", r.length());
                    out.add(m);
                }
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("left", a);
                doc.put("right", b);
                doc.put("dataBlockSize", reader.header().dataBlockSize() * 512);
                doc.put("ranges", out);
                w.write(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc));
                w.write('\n');
            } else {
                ThinDelta.writeXml(w, reader, metadataSnap ? held : reader.superblock().heldRoot(), a, b);
            }
            w.flush();
        }
        return 0;
    }
}
