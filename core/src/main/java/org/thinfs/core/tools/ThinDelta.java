package org.thinfs.core.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code thinfs delta A B}: the virtual-block ranges where two devices map the same data block ({@code same}),
 * different data blocks ({@code different}), or only one of them maps ({@code left_only}, {@code right_only}),
 * computed as thin_delta 0.9.0 does so that the output is identical:
 * <ol>
 *   <li>each device's mappings are grouped into runs of consecutive virtual and data blocks (times ignored);</li>
 *   <li>the two run lists are walked in parallel, splitting runs where the other side's runs start or end;</li>
 *   <li>adjacent pieces of the same kind whose virtual ranges touch are merged (so a {@code same} range may cover
 *       several data runs, and a {@code left_only} range pieces that are not contiguous on the data device).</li>
 * </ol>
 * Mappings are compared by data block only; the time is not part of the comparison.
 */
public final class ThinDelta {
    private ThinDelta() {
    }

    /** Compares two devices' mappings (each sorted by origin, as read from metadata). */
    public static List<DeltaRange> compute(MappingList left, MappingList right) {
        RunStream l = new RunStream(runs(left));
        RunStream r = new RunStream(runs(right));
        Merger out = new Merger();
        while (l.more() && r.more()) {
            long delta;
            if (Long.compareUnsigned(l.vbegin, r.vbegin) < 0) {
                delta = Math.min(l.len, r.vbegin - l.vbegin);
                out.add(DeltaRange.Kind.LEFT_ONLY, l.vbegin, delta);
                l.consume(delta);
            } else if (Long.compareUnsigned(l.vbegin, r.vbegin) > 0) {
                delta = Math.min(r.len, l.vbegin - r.vbegin);
                out.add(DeltaRange.Kind.RIGHT_ONLY, r.vbegin, delta);
                r.consume(delta);
            } else {
                delta = Math.min(l.len, r.len);
                out.add(l.dbegin != r.dbegin ? DeltaRange.Kind.DIFFERENT : DeltaRange.Kind.SAME, l.vbegin, delta);
                l.consume(delta);
                r.consume(delta);
            }
        }
        for (; l.more(); l.consume(l.len)) {
            out.add(DeltaRange.Kind.LEFT_ONLY, l.vbegin, l.len);
        }
        for (; r.more(); r.consume(r.len)) {
            out.add(DeltaRange.Kind.RIGHT_ONLY, r.vbegin, r.len);
        }
        return out.finish();
    }

    /** Runs {vbegin, dbegin, length} of consecutive virtual and data blocks, times ignored. */
    static List<long[]> runs(MappingList m) {
        List<long[]> runs = new ArrayList<>();
        long[] cur = null;
        for (int i = 0; i < m.size(); i++) {
            long o = m.origin(i);
            long d = m.data(i);
            if (cur != null && o == cur[0] + cur[2] && d == cur[1] + cur[2]) {
                cur[2]++;
            } else {
                cur = new long[]{o, d, 1};
                runs.add(cur);
            }
        }
        return runs;
    }

    /** A cursor over runs that can consume part of the current run. */
    private static final class RunStream {
        private final List<long[]> runs;
        private int next;
        long vbegin;
        long dbegin;
        long len;

        RunStream(List<long[]> runs) {
            this.runs = runs;
            load();
        }

        boolean more() {
            return len > 0;
        }

        void consume(long delta) {
            if (delta < len) {
                vbegin += delta;
                dbegin += delta;
                len -= delta;
            } else {
                load();
            }
        }

        private void load() {
            if (next < runs.size()) {
                long[] run = runs.get(next++);
                vbegin = run[0];
                dbegin = run[1];
                len = run[2];
            } else {
                len = 0;
            }
        }
    }

    /** thin_delta's simple emitter: merges a piece into the previous one of the same kind when they touch. */
    private static final class Merger {
        private final List<DeltaRange> out = new ArrayList<>();
        private DeltaRange.Kind kind;
        private long begin;
        private long end;

        void add(DeltaRange.Kind k, long b, long len) {
            if (kind == k && b == end) {
                end += len;
                return;
            }
            emit();
            kind = k;
            begin = b;
            end = b + len;
        }

        private void emit() {
            if (kind != null) {
                out.add(new DeltaRange(kind, begin, end - begin));
            }
        }

        List<DeltaRange> finish() {
            emit();
            kind = null;
            return out;
        }
    }

    /**
     * Writes the ranges as thin_delta 0.9.0 prints them (without {@code --verbose}). {@code metadataSnap} is the
     * superblock's held_root (printed only when non-zero, as thin_delta does); {@code nrDataBlocks} is 0 when the
     * devices were read through the metadata snapshot.
     */
    public static void writeXml(Writer w, PoolHeader header, long metadataSnap, long left, long right,
                                List<DeltaRange> ranges) {
        StringBuilder sb = new StringBuilder();
        sb.append("<superblock uuid=\"").append(XmlDumpWriter.escape(header.uuid()))
                .append("\" time=\"").append(Long.toUnsignedString(header.time()))
                .append("\" transaction=\"").append(Long.toUnsignedString(header.transaction()))
                .append("\" data_block_size=\"").append(Long.toUnsignedString(header.dataBlockSize()))
                .append("\" nr_data_blocks=\"").append(Long.toUnsignedString(header.nrDataBlocks()));
        if (metadataSnap != 0) {
            sb.append("\" metadata_snap=\"").append(Long.toUnsignedString(metadataSnap));
        }
        sb.append("\">\n  <diff left=\"").append(Long.toUnsignedString(left)).append("\" right=\"")
                .append(Long.toUnsignedString(right)).append("\">\n");
        try {
            w.append(sb);
            for (DeltaRange r : ranges) {
                sb.setLength(0);
                sb.append("    <").append(r.kind().xmlName()).append(" begin=\"").append(Long.toUnsignedString(
                        r.begin())).append("\" length=\"").append(Long.toUnsignedString(r.length())).append("\"/>\n");
                w.append(sb);
            }
            w.write("  </diff>\n</superblock>\n");
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compares devices {@code left} and {@code right} of {@code reader} and writes thin_delta's XML. */
    public static void writeXml(Writer w, MetadataReader reader, long liveHeldRoot, long left, long right) {
        List<DeltaRange> ranges = compute(reader.mappingList(left), reader.mappingList(right));
        writeXml(w, reader.header(), liveHeldRoot, left, right, ranges);
    }
}
