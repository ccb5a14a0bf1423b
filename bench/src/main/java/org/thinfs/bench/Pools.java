package org.thinfs.bench;

import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.thin.ThinMetadata;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** Metadata files for the benchmarks: device 1 with {@code mappings} sequential mappings, committed. */
final class Pools {
    private Pools() {
    }

    static ThinMetadata withMappings(long mappings, long spareDataBlocks) throws IOException {
        Path file = Files.createTempFile("thinfs-bench", ".meta");
        file.toFile().deleteOnExit();
        // About 33 bytes of metadata per mapping, as thin_metadata_size estimates, with headroom.
        long bytes = Math.max(16L << 20, mappings * 48 + (64L << 20));
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
        }
        ThinMetadata md = ThinMetadata.format(FileBlockDevice.open(file, true), 128, mappings + spareDataBlocks, 16384);
        md.createThin(1);
        for (long v = 0; v < mappings; v++) {
            md.insert(1, v, md.dataSpace().allocate());
            if ((v & 0xFFFFF) == 0xFFFFF) {
                md.commit();
            }
        }
        md.commit();
        return md;
    }
}
