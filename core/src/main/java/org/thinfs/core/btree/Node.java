package org.thinfs.core.btree;

import org.thinfs.core.CorruptMetadataException;
import org.thinfs.core.format.Layout;

import java.nio.ByteBuffer;

/**
 * A view over one btree node block (FORMAT.md section 5):
 * <pre>
 *   0 csum | 4 flags (1 internal, 2 leaf) | 8 blocknr | 16 nr_entries | 20 max_entries | 24 value_size | 28 pad
 *   32: keys[max_entries] (u64)   32 + 8 * max_entries: values[max_entries] (value_size bytes each)
 * </pre>
 * Invariants kept by writers: keys strictly ascending; a non-root node holds at least max_entries / 3 entries;
 * an internal node's key i is at most every key in child i's subtree. Bytes past nr_entries are ignored.
 */
public final class Node {
    public static final int INTERNAL = 1;
    public static final int LEAF = 2;
    public static final int HEADER_SIZE = 32;
    static final int FLAGS = 4;
    static final int NR_ENTRIES = 16;
    static final int MAX_ENTRIES = 20;
    static final int VALUE_SIZE = 24;

    private final ByteBuffer buf;
    private final long blocknr;

    public Node(ByteBuffer buf, long blocknr) {
        this.buf = buf;
        this.blocknr = blocknr;
    }

    /** max_entries as every writer sets it: a multiple of 3 that fits the block. */
    public static int maxEntriesFor(int valueSize) {
        return 3 * ((Layout.BLOCK_SIZE - HEADER_SIZE) / (8 + valueSize) / 3);
    }

    /**
     * Formats an empty node in a zeroed block, holding at most {@code limit} entries or what fits the block, if
     * less. Every reader takes the capacity from the node's own max_entries, so a tree of small nodes (tests) is read
     * like any other.
     */
    public static Node init(ByteBuffer buf, long blocknr, int flags, int valueSize, int limit) {
        Node n = new Node(buf, blocknr);
        buf.putInt(FLAGS, flags);
        buf.putInt(NR_ENTRIES, 0);
        buf.putInt(MAX_ENTRIES, Math.min(limit, maxEntriesFor(valueSize)));
        buf.putInt(VALUE_SIZE, valueSize);
        buf.putInt(28, 0);
        return n;
    }

    public long blocknr() {
        return blocknr;
    }

    public ByteBuffer buffer() {
        return buf;
    }

    public int flags() {
        return buf.getInt(FLAGS);
    }

    public boolean isLeaf() {
        return (flags() & LEAF) != 0;
    }

    public boolean isInternal() {
        return (flags() & INTERNAL) != 0;
    }

    public int nrEntries() {
        return buf.getInt(NR_ENTRIES);
    }

    public void setNrEntries(int n) {
        buf.putInt(NR_ENTRIES, n);
    }

    public int maxEntries() {
        return buf.getInt(MAX_ENTRIES);
    }

    public int valueSize() {
        return buf.getInt(VALUE_SIZE);
    }

    public void setFlags(int flags) {
        buf.putInt(FLAGS, flags);
    }

    public long key(int i) {
        return buf.getLong(HEADER_SIZE + 8 * i);
    }

    public void setKey(int i, long key) {
        buf.putLong(HEADER_SIZE + 8 * i, key);
    }

    /** Byte offset of value {@code i} within the block. */
    public int valueOffset(int i) {
        return HEADER_SIZE + 8 * maxEntries() + valueSize() * i;
    }

    /** Value {@code i} read as a u64 (internal nodes and 8-byte leaves). */
    public long valueLong(int i) {
        return buf.getLong(valueOffset(i));
    }

    public void setValueLong(int i, long v) {
        buf.putLong(valueOffset(i), v);
    }

    public void getValue(int i, byte[] dst) {
        buf.get(valueOffset(i), dst, 0, valueSize());
    }

    public void setValue(int i, byte[] src) {
        buf.put(valueOffset(i), src, 0, valueSize());
    }

    /**
     * Largest index whose key is at most {@code key}, or -1 when every key is greater (binary search).
     */
    public int lowerBound(long key) {
        int lo = 0;
        int hi = nrEntries() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long k = key(mid);
            if (Long.compareUnsigned(k, key) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Moves entries [from, nr) by {@code delta} slots (keys and values); nr_entries is not changed. */
    public void shiftEntries(int from, int delta) {
        int n = nrEntries();
        if (from >= n) {
            return;
        }
        int count = n - from;
        byte[] a = buf.array();
        int base = buf.arrayOffset();
        System.arraycopy(a, base + HEADER_SIZE + 8 * from, a, base + HEADER_SIZE + 8 * (from + delta), 8 * count);
        int vs = valueSize();
        System.arraycopy(a, base + valueOffset(from), a, base + valueOffset(from + delta), vs * count);
    }

    /** Copies {@code count} entries from {@code src} starting at {@code srcIndex} into this node at {@code dstIndex}. */
    public void copyEntries(int dstIndex, Node src, int srcIndex, int count) {
        if (count <= 0) {
            return;
        }
        buf.put(HEADER_SIZE + 8 * dstIndex, src.buf, HEADER_SIZE + 8 * srcIndex, 8 * count);
        int vs = valueSize();
        buf.put(valueOffset(dstIndex), src.buf, src.valueOffset(srcIndex), vs * count);
    }

    /**
     * Checks the structural rules a reader relies on (FORMAT.md 5.1) that are local to one node.
     *
     * @param expectedValueSize the tree's value size for leaves, or -1 to skip that check
     */
    public void validate(int expectedValueSize) {
        int flags = flags();
        if (flags != INTERNAL && flags != LEAF) {
            throw new CorruptMetadataException(blocknr, flags == (INTERNAL | LEAF)
                    ? "btree node is both internal and leaf" : "unknown btree node type " + flags);
        }
        int max = maxEntries();
        int vs = valueSize();
        if (vs <= 0 || max <= 0 || (long) HEADER_SIZE + (8L + vs) * max > Layout.BLOCK_SIZE) {
            throw new CorruptMetadataException(blocknr, "btree node max entries too large: " + max
                    + " with value size " + vs);
        }
        if (max % 3 != 0) {
            throw new CorruptMetadataException(blocknr, "btree node max entries is not divisible by 3: " + max);
        }
        int n = nrEntries();
        if (n < 0 || n > max) {
            throw new CorruptMetadataException(blocknr, "btree node has " + n + " entries, more than its max "
                    + max);
        }
        if (isInternal() && vs != 8) {
            throw new CorruptMetadataException(blocknr, "internal btree node with value size " + vs);
        }
        if (isLeaf() && expectedValueSize >= 0 && vs != expectedValueSize) {
            throw new CorruptMetadataException(blocknr, "btree leaf value size mismatch: expected "
                    + expectedValueSize + ", but got " + vs);
        }
        for (int i = 1; i < n; i++) {
            if (Long.compareUnsigned(key(i - 1), key(i)) >= 0) {
                throw new CorruptMetadataException(blocknr, "btree node keys are out of order at entry " + i);
            }
        }
    }
}
