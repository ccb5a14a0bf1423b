package org.thinfs.core.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * Writes visitor events as {@code thin_dump} 0.9.0 prints them (FORMAT.md 14): two-space indentation, attributes
 * in its order, and a maximal run of at least two mappings with consecutive origins, consecutive data blocks and
 * one time printed as a {@code range_mapping}, anything else as a {@code single_mapping}. The output is
 * byte-identical to thin_dump's for the same content.
 *
 * <p>The writer does not close or flush the {@link Writer} except at {@link #endSuperblock()}, which flushes it.
 * I/O errors surface as {@link UncheckedIOException}.
 */
public final class XmlDumpWriter implements MetadataVisitor {
    private final Writer out;
    private final StringBuilder line = new StringBuilder(128);
    /** The run of mappings not yet printed; {@code runLength} 0 means none. */
    private long runOrigin;
    private long runData;
    private int runTime;
    private long runLength;

    public XmlDumpWriter(Writer out) {
        this.out = out;
    }

    @Override
    public void beginSuperblock(PoolHeader h) {
        line.setLength(0);
        line.append("<superblock uuid=\"").append(escape(h.uuid()));
        attr("time", h.time());
        attr("transaction", h.transaction());
        attr("flags", h.flags());
        attr("version", h.version());
        attr("data_block_size", h.dataBlockSize());
        attr("nr_data_blocks", h.nrDataBlocks());
        line.append("\">\n");
        emit();
    }

    @Override
    public void endSuperblock() {
        write("</superblock>\n");
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void beginDevice(DeviceHeader h) {
        line.setLength(0);
        line.append("  <device dev_id=\"").append(Long.toUnsignedString(h.devId()));
        attr("mapped_blocks", h.mappedBlocks());
        attr("transaction", h.transaction());
        attr("creation_time", h.creationTime());
        attr("snap_time", h.snapTime());
        line.append("\">\n");
        emit();
    }

    @Override
    public void endDevice() {
        flushRun();
        write("  </device>\n");
    }

    @Override
    public void mapping(long origin, long data, int time) {
        if (runLength > 0 && origin == runOrigin + runLength && data == runData + runLength && time == runTime) {
            runLength++;
            return;
        }
        flushRun();
        runOrigin = origin;
        runData = data;
        runTime = time;
        runLength = 1;
    }

    private void flushRun() {
        if (runLength == 0) {
            return;
        }
        line.setLength(0);
        if (runLength == 1) {
            line.append("    <single_mapping origin_block=\"").append(Long.toUnsignedString(runOrigin));
            attr("data_block", runData);
        } else {
            line.append("    <range_mapping origin_begin=\"").append(Long.toUnsignedString(runOrigin));
            attr("data_begin", runData);
            attr("length", runLength);
        }
        attr("time", Integer.toUnsignedLong(runTime));
        line.append("\"/>\n");
        emit();
        runLength = 0;
    }

    /** Closes the previous attribute's quote and appends {@code name="value} (quote left open). */
    private void attr(String name, long value) {
        line.append("\" ").append(name).append("=\"").append(Long.toUnsignedString(value));
    }

    private void emit() {
        try {
            out.append(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(String s) {
        try {
            out.write(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** thin_dump prints attribute values raw; escape only what would make the XML unreadable. */
    static String escape(String s) {
        if (s.indexOf('&') < 0 && s.indexOf('<') < 0 && s.indexOf('"') < 0) {
            return s;
        }
        return s.replace("&", "&amp;").replace("<", "&lt;").replace("\"", "&quot;");
    }
}
