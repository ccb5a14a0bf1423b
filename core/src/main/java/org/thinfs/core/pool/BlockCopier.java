package org.thinfs.core.pool;

import org.thinfs.core.thin.ThinMetadata;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * copy_file_range as block sharing: blocks aligned on both sides are remapped to the source's data blocks (their
 * counts raised, {@link ThinMetadata#share}), source holes unmap the destination, and only the unaligned edges
 * (or a whole copy between offsets that are not congruent modulo the block size) move as bytes.
 *
 * <p>Rules kept here: the cost follows what the source maps and the destination mapped, never the length (merged
 * walks of both trees, in batches); each batch locks exactly the blocks it reads or changes, on both devices, in one
 * global (device, block) order, so it never deadlocks with writes or with a copy the other way; a batch is one
 * metadata change, so no request leaves half a block shared; after a batch that shared anything both devices count
 * as snapshotted ({@link org.thinfs.core.thin.BlockSharing}), so the next write to either side copies on write. Nothing is
 * written to data blocks by the sharing part, and the mappings reach the disk with the next commit, after the data
 * flush, like any write's.
 */
final class BlockCopier {
    private static final int BATCH = 4096;

    private final IoContext io;
    private final long blockSize;

    BlockCopier(IoContext io, long blockSize) {
        this.io = io;
        this.blockSize = blockSize;
    }

    /** Copies [srcOff, srcOff + len) of {@code src} to {@code dstOff} of {@code dst}; the caller clipped len. */
    void copy(ThinDevice src, long srcOff, ThinDevice dst, long dstOff, long len) {
        if (len <= 0) {
            return;
        }
        io.metadata().requireWritable();
        // Over a base image an unmapped block is not a hole (it reads the image), and the image's blocks have no
        // data block to share: such copies move bytes.
        if (srcOff % blockSize != dstOff % blockSize || src.base() != null || dst.base() != null) {
            copyBytesSkippingHoles(src, srcOff, dst, dstOff, len);
            return;
        }
        long head = Math.min(len, (blockSize - srcOff % blockSize) % blockSize);
        long wholeBlocks = (len - head) / blockSize;
        long tail = len - head - wholeBlocks * blockSize;
        copyBytesSkippingHoles(src, srcOff, dst, dstOff, head);
        if (wholeBlocks > 0) {
            shareBlocks(src, (srcOff + head) / blockSize, dst, (dstOff + head) / blockSize, wholeBlocks);
        }
        long done = head + wholeBlocks * blockSize;
        copyBytesSkippingHoles(src, srcOff + done, dst, dstOff + done, tail);
    }

    private void shareBlocks(ThinDevice src, long srcFirst, ThinDevice dst, long dstFirst, long count) {
        long k = 0;
        while (k < count) {
            long from = k;
            long[] s = io.metadata().read(md -> md.mappings(src.id(), srcFirst + from, srcFirst + count, BATCH));
            List<Long> d = io.metadata().read(md -> md.mappedBlocks(dst.id(), dstFirst + from,
                    dstFirst + count, BATCH));
            long limit = count;
            if (s.length == 2 * BATCH) {
                limit = Math.min(limit, s[s.length - 2] - srcFirst + 1);
            }
            if (d.size() == BATCH) {
                limit = Math.min(limit, d.get(d.size() - 1) - dstFirst + 1);
            }
            TreeSet<Long> offsets = new TreeSet<>();          // block offsets from the start that this batch touches
            for (int i = 0; i < s.length && s[i] - srcFirst < limit; i += 2) {
                offsets.add(s[i] - srcFirst);
            }
            for (long v : d) {
                if (v - dstFirst < limit) {
                    offsets.add(v - dstFirst);
                }
            }
            if (offsets.isEmpty()) {
                return;                                         // nothing mapped on either side from here on
            }
            shareBatch(src, srcFirst, dst, dstFirst, offsets);
            k = limit;
        }
    }

    /** One metadata change: the touched offsets, locked on both devices, re-read under the lock and applied. */
    private void shareBatch(ThinDevice src, long srcFirst, ThinDevice dst, long dstFirst, TreeSet<Long> offsets) {
        List<long[]> keys = new ArrayList<>();                  // (device, block), locked in ascending order
        for (long o : offsets) {
            keys.add(new long[]{src.id(), srcFirst + o});
            if (dst.id() != src.id() || dstFirst != srcFirst) {
                keys.add(new long[]{dst.id(), dstFirst + o});
            }
        }
        keys.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
        List<long[]> locked = new ArrayList<>();
        io.gate().readLock().lock();
        try {
            long[] last = null;
            for (long[] key : keys) {
                if (last != null && last[0] == key[0] && last[1] == key[1]) {
                    continue;                                   // a copy within one file over itself
                }
                io.blockLocks().lock(key[0], key[1], key[1]);
                locked.add(key);
                last = key;
            }
            io.metadata().change(md -> {
                boolean prepared = false;
                for (long o : offsets) {
                    long v = md.lookup(src.id(), srcFirst + o);
                    if (v == -1) {
                        md.remove(dst.id(), dstFirst + o);
                        continue;
                    }
                    if (!prepared) {                       // both sides copy on write from now on
                        md.sharing().prepare(java.util.List.of(src.id(), dst.id()));
                        prepared = true;
                    }
                    md.sharing().share(src.id(), srcFirst + o, dst.id(), dstFirst + o);
                }
                return null;
            });
        } finally {
            for (long[] key : locked) {
                io.blockLocks().unlock(key[0], key[1], key[1]);
            }
            io.gate().readLock().unlock();
        }
    }

    /**
     * Bytes, for what cannot be shared: the source's holes become holes (or zeros at partial edges, or zeros written
     * where the destination's base image shows through) in the destination without being read, so the cost follows
     * the source's data.
     */
    private void copyBytesSkippingHoles(ThinDevice src, long srcOff, ThinDevice dst, long dstOff, long len) {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(len, 1 << 20));
        long done = 0;
        while (done < len) {
            long at = srcOff + done;
            long block = at / blockSize;
            long next = src.nextData(block, (srcOff + len - 1) / blockSize + 1);
            long dataStart = next < 0 ? srcOff + len : Math.max(at, next * blockSize);
            if (dataStart > at) {
                long hole = Math.min(len - done, dataStart - at);
                dst.zeroOut(dstOff + done, hole);
                done += hole;
                continue;
            }
            long chunk = Math.min(len - done, Math.min(buf.capacity(), (block + 1) * blockSize - at));
            buf.clear().limit((int) chunk);
            src.read(at, buf);
            buf.flip();
            dst.write(dstOff + done, buf);
            done += chunk;
        }
    }
}
