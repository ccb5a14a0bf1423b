package org.thinfs.examples;

import org.thinfs.core.pool.PoolConfig;
import org.thinfs.core.pool.PoolOptions;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinDevice;
import org.thinfs.core.pool.ThinPool;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Uses the engine directly, without FUSE: make a pool, write to a thin volume, snapshot it, overwrite the origin
 * (copy-on-write keeps the snapshot's view), and commit. The result is plain dm-thin metadata: try
 * {@code thin_check DIR/metadata} and {@code thin_dump DIR/metadata} on it.
 *
 * <p>Run: {@code mvn -q -pl examples -am package -DskipTests && java -cp "examples/target/classes:core/target/classes:$(ls ~/.m2/repository/org/slf4j/slf4j-api/2.0.16/*.jar)" org.thinfs.examples.CoreApiExample /tmp/example-pool}
 */
public final class CoreApiExample {
    private CoreApiExample() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "example-pool");
        Files.createDirectories(dir);
        Path metadata = dir.resolve("metadata");
        Path data = dir.resolve("data");
        Files.deleteIfExists(metadata);
        Files.deleteIfExists(data);
        Files.createFile(data);

        PoolConfig config = new PoolConfig(PoolConfig.DEFAULT_DATA_BLOCK_SIZE, 256L << 20, 4L << 20);
        try (ThinPool pool = ThinPool.create(metadata, data, config, PoolOptions.DEFAULT)) {
            ThinDevice vm = pool.createThin(1);
            vm.write(0, text("hello from the origin"));
            pool.createSnapshot(2, 1);          // O(1): shares device 1's mapping tree
            vm.write(0, text("the origin changed"));  // copy-on-write: device 2 still sees the old block
            pool.commit();                       // data flushed, then metadata, superblock last

            System.out.println("device 1: " + read(vm));
            System.out.println("device 2: " + read(pool.device(2)));
            PoolUsage u = pool.usage();
            System.out.printf("data blocks used %d of %d, metadata blocks used %d of %d%n", u.dataBlocksUsed(),
                    u.dataBlocks(), u.metadataBlocksUsed(), u.metadataBlocks());
        }
        System.out.println("check it: thin_check " + metadata + " && thin_dump " + metadata);
    }

    /** The text padded with spaces to 32 bytes, so a later write replaces all of an earlier one. */
    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(String.format("%-32s", s).getBytes(StandardCharsets.UTF_8));
    }

    private static String read(ThinDevice d) {
        ByteBuffer b = ByteBuffer.allocate(32);
        d.read(0, b);
        return new String(b.array(), StandardCharsets.UTF_8).trim();
    }
}
