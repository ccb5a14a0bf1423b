package org.thinfs.core.thin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.MetadataReadOnlyException;
import org.thinfs.core.io.FileBlockDevice;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One flipped bit in any live metadata block: opening the pool and reading every device either reads exactly the
 * original content (the block was not needed, e.g. it belongs only to the metadata snapshot) or fails with a
 * CorruptMetadataException naming a block. Never a hang, a wrong result, or another exception.
 */
class BitFlipTest {
    @TempDir
    Path dir;

    @Test
    void everyLiveBlockWithAFlippedBitIsDetected() throws Exception {
        Path meta = dir.resolve("meta");
        new RandomAccessFile(meta.toFile(), "rw").setLength(4L << 20);
        List<Long> live = new ArrayList<>();
        String original;
        try (ThinMetadata md = ThinMetadata.format(FileBlockDevice.open(meta, true), 128, 50000, 256)) {
            Random rnd = new Random(3);
            md.createThin(1);
            for (int i = 0; i < 3000; i++) {
                md.insert(1, rnd.nextInt(20000), md.dataSpace().allocate());
            }
            md.createSnapshot(2, 1);
            for (int i = 0; i < 300; i++) {
                md.insert(2, rnd.nextInt(20000), md.dataSpace().allocate());
            }
            md.createThin(3);
            md.commit();
            md.reserveMetadataSnapshot();
            md.insert(1, 7, md.dataSpace().allocate());
            md.commit();
            original = RoundTripTest.content(md);
            for (long b = 0; b < md.metadataSpace().nrBlocks(); b++) {
                if (md.metadataSpace().count(b) > 0) {
                    live.add(b);
                }
            }
        }
        assertTrue(live.size() > 20, "a pool with several tree levels: " + live.size() + " live blocks");
        Random rnd = new Random(11);
        Path copy = dir.resolve("copy");
        int detected = 0;
        for (long block : live) {
            Files.copy(meta, copy, StandardCopyOption.REPLACE_EXISTING);
            int bit = rnd.nextInt(4096 * 8);
            try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
                long pos = block * 4096 + bit / 8;
                f.seek(pos);
                int v = f.read();
                f.seek(pos);
                f.write(v ^ (1 << (bit % 8)));
            }
            try (FileBlockDevice dev = FileBlockDevice.open(copy, false)) {
                String got = RoundTripTest.content(ThinMetadata.open(dev, false, 256));
                assertEquals(original, got, "block " + block + " bit " + bit + " changed what is read");
            } catch (CorruptMetadataException e) {
                assertTrue(e.getMessage().contains("block"), e.getMessage());
                detected++;
            } catch (MetadataReadOnlyException e) {
                fail("unexpected: " + e);
            }
        }
        // Blocks reachable only from the metadata snapshot are not read when the live pool is opened: their flips
        // change nothing read (asserted above); every other flip must be caught.
        assertTrue(detected >= live.size() - 8, "flips detected: " + detected + " of " + live.size());
    }
}
