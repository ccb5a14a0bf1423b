package org.thinfs.core.tools;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable list of mappings stored as three parallel primitive arrays (20 bytes a mapping), so a dump with
 * millions of mappings stays compact. Build one with {@link Builder}.
 */
public final class MappingList {
    public static final MappingList EMPTY = new MappingList(new long[0], new long[0], new int[0], 0);

    private final long[] origins;
    private final long[] data;
    private final int[] times;
    private final int size;

    private MappingList(long[] origins, long[] data, int[] times, int size) {
        this.origins = origins;
        this.data = data;
        this.times = times;
        this.size = size;
    }

    public static MappingList of(List<Mapping> mappings) {
        Builder b = new Builder();
        for (Mapping m : mappings) {
            b.add(m.origin(), m.data(), m.time());
        }
        return b.build();
    }

    public int size() {
        return size;
    }

    public long origin(int i) {
        return origins[check(i)];
    }

    public long data(int i) {
        return data[check(i)];
    }

    public int time(int i) {
        return times[check(i)];
    }

    public Mapping get(int i) {
        check(i);
        return new Mapping(origins[i], data[i], times[i]);
    }

    /** A read-only {@link List} view that creates {@link Mapping} records on access. */
    public List<Mapping> asList() {
        return new AbstractList<>() {
            @Override
            public Mapping get(int i) {
                return MappingList.this.get(i);
            }

            @Override
            public int size() {
                return size;
            }
        };
    }

    /** Whether origins strictly ascend (as in any dump read from metadata). */
    public boolean isSortedByOrigin() {
        for (int i = 1; i < size; i++) {
            if (Long.compareUnsigned(origins[i - 1], origins[i]) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** Replays the mappings as visitor events. */
    public void accept(MetadataVisitor v) {
        for (int i = 0; i < size; i++) {
            v.mapping(origins[i], data[i], times[i]);
        }
    }

    private int check(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("mapping " + i + " of " + size);
        }
        return i;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MappingList m && m.size == size
                && Arrays.equals(origins, 0, size, m.origins, 0, size)
                && Arrays.equals(data, 0, size, m.data, 0, size)
                && Arrays.equals(times, 0, size, m.times, 0, size);
    }

    @Override
    public int hashCode() {
        int h = size;
        for (int i = 0; i < size; i++) {
            h = 31 * h + Long.hashCode(origins[i]);
            h = 31 * h + Long.hashCode(data[i]);
            h = 31 * h + times[i];
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < Math.min(size, 8); i++) {
            sb.append(i == 0 ? "" : ", ").append(origins[i]).append("->").append(data[i]).append('@')
                    .append(times[i]);
        }
        return sb.append(size > 8 ? ", ... " + size + " mappings]" : "]").toString();
    }

    /** Accumulates mappings in arrays that grow by half; not thread-safe. */
    public static final class Builder {
        private long[] origins = new long[16];
        private long[] data = new long[16];
        private int[] times = new int[16];
        private int size;

        public Builder add(long origin, long dataBlock, int time) {
            if (size == origins.length) {
                if (size == Integer.MAX_VALUE - 8) {
                    throw new IllegalStateException("too many mappings for one device list");
                }
                int n = (int) Math.min(Integer.MAX_VALUE - 8L, size + (size >> 1) + 16L);
                origins = Arrays.copyOf(origins, n);
                data = Arrays.copyOf(data, n);
                times = Arrays.copyOf(times, n);
            }
            origins[size] = origin;
            data[size] = dataBlock;
            times[size] = time;
            size++;
            return this;
        }

        public int size() {
            return size;
        }

        public MappingList build() {
            return size == 0 ? EMPTY : new MappingList(Arrays.copyOf(origins, size), Arrays.copyOf(data, size),
                    Arrays.copyOf(times, size), size);
        }
    }
}
