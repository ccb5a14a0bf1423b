package org.thinfs.core.tools;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.thinfs.core.btree.Node;
import org.thinfs.core.format.Checksums;
import org.thinfs.core.format.Layout;
import org.thinfs.core.format.Superblock;
import org.thinfs.core.io.BlockDevice;
import org.thinfs.core.io.FileBlockDevice;
import org.thinfs.core.testing.TestVectors;
import org.thinfs.core.testing.ThinTools;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Corrupted copies of the vectors: thinfs check reports a problem whenever thin_check does, and also where
 * thin_check 0.9.0 looks away (FORMAT.md 13). Randomness is seeded; failures name the seed and the case.
 */
class MetadataCheckerCorruptionTest {
    private static final int[] XORS = {Checksums.SUPERBLOCK_XOR, Checksums.NODE_XOR, Checksums.BITMAP_XOR,
            Checksums.INDEX_XOR};

    @TempDir
    Path tmp;

    /** Raw flips (checksums left stale) and re-sealed flips (checksum recomputed) in random live blocks. */
    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void randomBitFlipsInLiveBlocks(Path meta) throws IOException {
        ThinTools.assumeInstalled();
        long seed = meta.getFileName().toString().hashCode() * 31L + 7;
        Random rnd = new Random(seed);
        List<Long> live = liveBlocks(meta);
        int thinCheckFailed = 0;
        int onlyOursFailed = 0;
        for (int round = 0; round < 40; round++) {
            boolean reseal = round % 2 == 1;
            Path copy = copy(meta);
            long block = live.get(rnd.nextInt(live.size()));
            ByteBuffer b = readBlock(copy, block);
            int xor = blockXor(b);
            int flips = 1 + rnd.nextInt(3);
            StringBuilder what = new StringBuilder();
            for (int f = 0; f < flips; f++) {
                int off = rnd.nextBoolean() ? 4 + rnd.nextInt(60) : 4 + rnd.nextInt(Layout.BLOCK_SIZE - 4);
                int bit = rnd.nextInt(8);
                b.put(off, (byte) (b.get(off) ^ (1 << bit)));
                what.append(" byte ").append(off).append(" bit ").append(bit);
            }
            if (reseal) {
                Checksums.store(b, xor);
            }
            writeBlock(copy, block, b);
            String where = meta.getFileName() + " seed " + seed + " round " + round + " block " + block
                    + (reseal ? " resealed" : " raw") + what;
            CheckReport ours = MetadataChecker.check(copy);
            assertFalse(ours.mentions("the check stopped early"), where + "\n" + ours);
            ThinTools.Result theirs = ThinTools.check(copy);
            if (!theirs.ok()) {
                thinCheckFailed++;
                assertFalse(ours.isClean(), where + ": thin_check failed but thinfs check is clean\n" + theirs);
            } else if (!ours.isClean()) {
                onlyOursFailed++;
                System.err.println(where + ": only thinfs check fails: " + ours.errors().get(0));
            }
            if (!reseal && xor != 0) {
                assertFalse(ours.isClean(), where + ": a stale checksum must be found");
            }
        }
        assertTrue(thinCheckFailed > 0, "the corruption never tripped thin_check; the test lost its point");
        System.err.printf("%s: thin_check failed %d of 40, only thinfs check failed %d more%n", meta.getFileName(),
                thinCheckFailed, onlyOursFailed);
    }

    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void zeroedSuperblock(Path meta) throws IOException {
        Path copy = copy(meta);
        writeBlock(copy, 0, ByteBuffer.allocate(Layout.BLOCK_SIZE));
        CheckReport r = MetadataChecker.check(copy);
        assertFalse(r.isClean());
        assertTrue(r.mentions("all zeros"), r.toString());
        if (ThinTools.isInstalled()) {
            assertFalse(ThinTools.check(copy).ok());
        }
    }

    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void truncatedFiles(Path meta) throws IOException {
        List<Long> live = liveBlocks(meta);
        long highest = live.get(live.size() - 1);
        long[] sizes = {0, 100, Layout.BLOCK_SIZE, Layout.BLOCK_SIZE * (highest / 2) + 123,
                Layout.BLOCK_SIZE * highest, Layout.BLOCK_SIZE * (highest + 1), Layout.BLOCK_SIZE * (highest + 1) + 7};
        for (long size : sizes) {
            Path copy = copy(meta);
            try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                ch.truncate(size);
            }
            CheckReport ours = MetadataChecker.check(copy);
            assertFalse(ours.mentions("the check stopped early"), ours.toString());
            // every size here is smaller than the space map: thinfs check refuses them all, thin_check only some
            assertFalse(ours.isClean(), meta + " truncated to " + size);
            if (ThinTools.isInstalled()) {
                ThinTools.Result theirs = ThinTools.check(copy);
                System.err.println(meta.getFileName() + " truncated to " + size + ": thin_check exit "
                        + theirs.exitCode() + ", thinfs " + ours.errorCount() + " errors");
            }
        }
    }

    /** A metadata count raised by one in a bitmap: a leak both checkers see. */
    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void bumpedMetadataRefCount(Path meta) throws IOException {
        Path copy = copy(meta);
        Superblock sb = superblock(copy);
        ByteBuffer index = readBlock(copy, sb.metadataSpaceMap().bitmapRoot());
        long bitmap = index.getLong(16);
        long victim = liveBlocks(meta).get(1);
        bumpEntry(copy, bitmap, (int) victim);
        CheckReport ours = MetadataChecker.check(copy);
        assertTrue(ours.mentions("metadata block leaked"), ours.toString());
        if (ThinTools.isInstalled()) {
            assertFalse(ThinTools.check(copy).ok());
        }
    }

    /** A data count raised by one: thin_check 0.9.0 does not compare data counts, thinfs check does. */
    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void bumpedDataRefCount(Path meta) throws IOException {
        Path copy = copy(meta);
        Superblock sb = superblock(copy);
        Node indexRoot = new Node(readBlock(copy, sb.dataSpaceMap().bitmapRoot()), sb.dataSpaceMap().bitmapRoot());
        long bitmap = indexRoot.isLeaf() ? indexRoot.valueLong(0)
                : new Node(readBlock(copy, indexRoot.valueLong(0)), indexRoot.valueLong(0)).valueLong(0);
        ByteBuffer bm = readBlock(copy, bitmap);
        int entry = 0;
        while (SpaceMapChecker.entry(bm, entry) >= 2) {
            entry++;
        }
        bumpEntry(copy, bitmap, entry);
        CheckReport ours = MetadataChecker.check(copy);
        assertFalse(ours.isClean(), ours.toString());
        final long victim = entry;
        assertTrue(ours.errors().stream().anyMatch(p -> p.space() == Problem.Space.DATA && p.block() == victim),
                ours.toString());
        if (ThinTools.isInstalled()) {
            assertTrue(ThinTools.check(copy).ok(), "thin_check 0.9.0 learned to count data blocks?");
        }
    }

    /** mapped_blocks off by one in the details: thin_check 0.9.0 passes it. */
    @ParameterizedTest
    @MethodSource("org.thinfs.core.tools.MetadataReaderTest#vectors")
    void changedMappedBlocks(Path meta) throws IOException {
        Path copy = copy(meta);
        Superblock sb = superblock(copy);
        long nr = sb.deviceDetailsRoot();
        Node n = new Node(readBlock(copy, nr), nr);
        if (!n.isLeaf() || n.nrEntries() == 0) {
            return;
        }
        ByteBuffer b = n.buffer();
        int off = n.valueOffset(0);
        b.putLong(off, b.getLong(off) + 1);
        Checksums.store(b, Checksums.NODE_XOR);
        writeBlock(copy, nr, b);
        CheckReport ours = MetadataChecker.check(copy);
        assertTrue(ours.mentions("mapped blocks"), ours.toString());
        if (ThinTools.isInstalled()) {
            assertTrue(ThinTools.check(copy).ok());
        }
    }

    /** Superblock fields the kernel refuses and thin_check 0.9.0 ignores. */
    @Test
    void superblockFieldsThinCheckIgnores() throws IOException {
        Path meta = TestVectors.testdata().resolve("single.meta");
        record Case(String name, int offset, long value, int width, String expect) {
        }
        List<Case> cases = new ArrayList<>(List.of(
                new Case("magic", 32, 12345, 8, "magic"),
                new Case("blocknr", 8, 7, 8, "block number"),
                new Case("incompat", 360, 1, 4, "incompatible"),
                new Case("compat_ro", 356, 1, 4, "compat_ro"),
                new Case("data block size 100", 336, 100, 4, "data block size"),
                new Case("data block size 0", 336, 0, 4, "data block size"),
                new Case("metadata block size", 340, 16, 4, "metadata block size"),
                new Case("time before a mapping", 44, 0, 4, "later than the pool's time")));
        for (Case c : cases) {
            Path copy = copy(meta);
            ByteBuffer b = readBlock(copy, 0);
            if (c.name().startsWith("time")) {
                // single's device is at time 0: move a mapping's time instead so it is later than the pool's
                b.putInt(44, 0);
                Checksums.store(b, Checksums.SUPERBLOCK_XOR);
                writeBlock(copy, 0, b);
                stampLate(copy);
            } else {
                if (c.width() == 8) {
                    b.putLong(c.offset(), c.value());
                } else {
                    b.putInt(c.offset(), (int) c.value());
                }
                Checksums.store(b, Checksums.SUPERBLOCK_XOR);
                writeBlock(copy, 0, b);
            }
            CheckReport ours = MetadataChecker.check(copy);
            assertFalse(ours.isClean(), c.name());
            assertTrue(ours.mentions(c.expect()), c.name() + ":\n" + ours);
            if (ThinTools.isInstalled()) {
                assertTrue(ThinTools.check(copy).ok(), c.name() + ": thin_check 0.9.0 now checks this?");
            }
        }
    }

    /** A mapping to a data block past the data device, which thin_check 0.9.0 does not bound. */
    @Test
    void mappingPastTheDataDevice() throws IOException {
        Path copy = copy(TestVectors.testdata().resolve("single.meta"));
        Superblock sb = superblock(copy);
        long root = deviceRoot(copy, sb);
        Node n = new Node(readBlock(copy, root), root);
        n.setValueLong(0, (5000L << 24));
        Checksums.store(n.buffer(), Checksums.NODE_XOR);
        writeBlock(copy, root, n.buffer());
        CheckReport ours = MetadataChecker.check(copy);
        assertTrue(ours.mentions("point past the data device"), ours.toString());
    }

    /** A node pointing at itself, and an internal node repeating one child: reported, never hangs. */
    @Test
    void cyclesAreReported() throws IOException {
        Path copy = copy(TestVectors.testdata().resolve("large.meta"));
        Superblock sb = superblock(copy);
        long root = deviceRoot(copy, sb);
        Node n = new Node(readBlock(copy, root), root);
        assertTrue(n.isInternal());
        n.setValueLong(1, root);
        n.setValueLong(2, n.valueLong(3));
        Checksums.store(n.buffer(), Checksums.NODE_XOR);
        writeBlock(copy, root, n.buffer());
        CheckReport ours = MetadataChecker.check(copy);
        assertTrue(ours.mentions("reached twice"), ours.toString());
        assertFalse(ours.mentions("the check stopped early"), ours.toString());
        if (ThinTools.isInstalled()) {
            assertFalse(ThinTools.check(copy).ok());
        }
    }

    /** The details tree loses a device the mapping tree has: thin_check 0.9.0 does not notice. */
    @Test
    void detailsMissingADevice() throws IOException {
        Path copy = copy(TestVectors.testdata().resolve("snapshots.meta"));
        Superblock sb = superblock(copy);
        long nr = sb.deviceDetailsRoot();
        Node n = new Node(readBlock(copy, nr), nr);
        n.setNrEntries(n.nrEntries() - 1);
        Checksums.store(n.buffer(), Checksums.NODE_XOR);
        writeBlock(copy, nr, n.buffer());
        CheckReport ours = MetadataChecker.check(copy);
        assertTrue(ours.mentions("is in the mapping tree but not in the details tree"), ours.toString());
        if (ThinTools.isInstalled()) {
            assertTrue(ThinTools.check(copy).ok());
        }
    }

    @Test
    void emptyAndMissingFiles() throws IOException {
        Path empty = Files.createFile(tmp.resolve("empty"));
        assertFalse(MetadataChecker.check(empty).isClean());
        assertFalse(MetadataChecker.check(tmp.resolve("missing")).isClean());
        assertEquals(1, MetadataChecker.check(tmp.resolve("missing")).errorCount());
    }

    // ---------------------------------------------------------------- helpers

    private Path copy(Path meta) throws IOException {
        Path c = Files.createTempFile(tmp, "meta", ".meta");
        Files.copy(meta, c, StandardCopyOption.REPLACE_EXISTING);
        c.toFile().setWritable(true);
        return c;
    }

    static List<Long> liveBlocks(Path meta) throws IOException {
        try (BlockDevice dev = FileBlockDevice.open(meta, false)) {
            CountArray refs = MetadataChecker.referencedBlocks(dev);
            List<Long> live = new ArrayList<>();
            for (long b = 0; b < dev.nrBlocks(); b++) {
                if (refs.get(b) > 0) {
                    live.add(b);
                }
            }
            return live;
        }
    }

    private static long deviceRoot(Path meta, Superblock sb) throws IOException {
        long top = sb.dataMappingRoot();
        Node n = new Node(readBlock(meta, top), top);
        assertTrue(n.isLeaf());
        return n.valueLong(0);
    }

    private static void stampLate(Path copy) throws IOException {
        Superblock sb = superblock(copy);
        long root = deviceRoot(copy, sb);
        Node n = new Node(readBlock(copy, root), root);
        n.setValueLong(0, n.valueLong(0) | 5);
        Checksums.store(n.buffer(), Checksums.NODE_XOR);
        writeBlock(copy, root, n.buffer());
    }

    private static void bumpEntry(Path copy, long bitmap, int entry) throws IOException {
        ByteBuffer b = readBlock(copy, bitmap);
        int v = SpaceMapChecker.entry(b, entry);
        assertTrue(v < 2, "entry " + entry + " is " + v);
        int nv = v + 1;
        int byteOff = 16 + entry / 4;
        int shift = 2 * (entry % 4);
        int x = b.get(byteOff) & 0xFF;
        x &= ~(3 << shift);
        x |= ((nv >> 1) & 1) << shift | (nv & 1) << (shift + 1);
        b.put(byteOff, (byte) x);
        assertEquals(nv, SpaceMapChecker.entry(b, entry));
        Checksums.store(b, Checksums.BITMAP_XOR);
        writeBlock(copy, bitmap, b);
    }

    private static Superblock superblock(Path meta) throws IOException {
        return Superblock.decode(readBlock(meta, 0));
    }

    static int blockXor(ByteBuffer b) {
        for (int x : XORS) {
            if (Checksums.compute(b, x) == Checksums.stored(b)) {
                return x;
            }
        }
        return 0;
    }

    static ByteBuffer readBlock(Path meta, long nr) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Layout.BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(meta, StandardOpenOption.READ)) {
            ch.read(b, nr * Layout.BLOCK_SIZE);
        }
        return b.clear();
    }

    static void writeBlock(Path meta, long nr, ByteBuffer b) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "rw")) {
            f.seek(nr * Layout.BLOCK_SIZE);
            f.write(b.array(), 0, Layout.BLOCK_SIZE);
        }
    }
}
