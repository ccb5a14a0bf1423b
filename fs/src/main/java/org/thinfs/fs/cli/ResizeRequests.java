package org.thinfs.fs.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.format.Layout;
import org.thinfs.core.pool.PoolUsage;
import org.thinfs.core.pool.ThinPool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Properties;

/**
 * Resizing a mounted pool: {@code thinfs resize} drops a request file into the pool directory and the daemon,
 * which owns the pool, carries it out at its next periodic tick and answers in a result file.
 *
 * <pre>
 *   POOL/resize.request   data=BYTES and/or metadata=BYTES   (written by the command, atomically)
 *   POOL/resize.result    ok=true|false, message=...          (written by the daemon, atomically)
 * </pre>
 */
final class ResizeRequests {
    private static final Logger LOG = LoggerFactory.getLogger(ResizeRequests.class);

    private ResizeRequests() {
    }

    /** Daemon side: carries out a pending request, if any. */
    static void serve(PoolDir pool, ThinPool tp) {
        Path req = pool.dir().resolve("resize.request");
        if (!Files.isRegularFile(req)) {
            return;
        }
        Properties in = new Properties();
        Properties out = new Properties();
        try (var r = Files.newBufferedReader(req)) {
            in.load(r);
            Files.delete(req);
            PoolUsage u = tp.usage();
            if (in.getProperty("data") != null) {
                long blocks = Long.parseLong(in.getProperty("data")) / u.dataBlockSize();
                if (blocks < u.dataBlocks()) {
                    throw new IllegalArgumentException("cannot shrink the data space from " + u.dataBlocks() + " to "
                            + blocks + " blocks");
                }
                tp.resizeData(blocks);
            }
            if (in.getProperty("metadata") != null) {
                long blocks = Math.min(Long.parseLong(in.getProperty("metadata")) / Layout.BLOCK_SIZE,
                        Layout.MAX_METADATA_BLOCKS);
                if (blocks < u.metadataBlocks()) {
                    throw new IllegalArgumentException("cannot shrink the metadata space from " + u.metadataBlocks()
                            + " to " + blocks + " blocks");
                }
                tp.resizeMetadata(blocks);
            }
            out.setProperty("ok", "true");
            LOG.info("resized the mounted pool: {}", in);
        } catch (IOException | RuntimeException e) {
            out.setProperty("ok", "false");
            out.setProperty("message", String.valueOf(e.getMessage()));
            LOG.warn("resize request failed: {}", e.getMessage());
        }
        write(pool.dir().resolve("resize.result"), out);
    }

    /** Command side: asks the daemon and waits for its answer. */
    static void request(PoolDir pool, Long data, Long metadata, Duration timeout) throws Exception {
        Path result = pool.dir().resolve("resize.result");
        Files.deleteIfExists(result);
        Properties p = new Properties();
        if (data != null) {
            p.setProperty("data", Long.toString(data));
        }
        if (metadata != null) {
            p.setProperty("metadata", Long.toString(metadata));
        }
        write(pool.dir().resolve("resize.request"), p);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.isRegularFile(result)) {
            if (System.nanoTime() > deadline) {
                Files.deleteIfExists(pool.dir().resolve("resize.request"));
                throw new IllegalStateException("the mount daemon did not answer the resize request; see "
                        + pool.log());
            }
            Thread.sleep(100);
        }
        Properties answer = new Properties();
        try (var r = Files.newBufferedReader(result)) {
            answer.load(r);
        }
        Files.deleteIfExists(result);
        if (!"true".equals(answer.getProperty("ok"))) {
            throw new IllegalStateException(answer.getProperty("message", "resize failed"));
        }
    }

    private static void write(Path target, Properties p) {
        try {
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            try (var w = Files.newBufferedWriter(tmp)) {
                p.store(w, null);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.error("cannot write {}: {}", target, e.getMessage());
        }
    }
}
