package org.thinfs.core.tools;

import javax.xml.stream.Location;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Reads the XML of {@code thin_dump}/{@code thin_restore} (FORMAT.md 14) with StAX and turns it into
 * {@link MetadataVisitor} events. Accepts what thin_restore 0.9.0 accepts: one {@code superblock} holding
 * {@code device}s holding {@code range_mapping}/{@code single_mapping}; {@code flags}, {@code version} and
 * {@code metadata_snap} are optional (version defaults to 1, flags to 0, as thin_restore does); unknown
 * attributes are ignored. Anything else fails with a {@link DumpFormatException} naming line and column.
 * DTDs and external entities are refused.
 */
public final class XmlDumpReader {
    private static final long MAX_TIME = 0xFFFFFF;
    private static final long MAX_DATA_BLOCK = (1L << 40) - 1;
    private static final Set<String> MAPPINGS = Set.of("range_mapping", "single_mapping");

    private final String source;
    private XMLStreamReader xml;

    private XmlDumpReader(String source) {
        this.source = source;
    }

    /** Reads {@code file} into {@code visitor}. */
    public static void read(Path file, MetadataVisitor visitor) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            read(in, file.toString(), visitor);
        }
    }

    /** Reads a whole document from {@code in}; {@code source} names it in error messages. */
    public static void read(InputStream in, String source, MetadataVisitor visitor) {
        XmlDumpReader r = new XmlDumpReader(source);
        try {
            r.xml = factory().createXMLStreamReader(in);
            r.document(visitor);
        } catch (XMLStreamException e) {
            throw r.malformed(e);
        }
    }

    public static void read(Reader in, String source, MetadataVisitor visitor) {
        XmlDumpReader r = new XmlDumpReader(source);
        try {
            r.xml = factory().createXMLStreamReader(in);
            r.document(visitor);
        } catch (XMLStreamException e) {
            throw r.malformed(e);
        }
    }

    /** Parses a whole dump into the IR. */
    public static PoolDump parse(Path file) throws IOException {
        DumpBuilder b = new DumpBuilder();
        read(file, b);
        return b.build();
    }

    public static PoolDump parse(String xmlText, String source) {
        DumpBuilder b = new DumpBuilder();
        read(new java.io.StringReader(xmlText), source, b);
        return b.build();
    }

    private static XMLInputFactory factory() {
        XMLInputFactory f = XMLInputFactory.newFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_COALESCING, true);
        return f;
    }

    private void document(MetadataVisitor v) throws XMLStreamException {
        boolean seenSuperblock = false;
        while (xml.hasNext()) {
            int ev = xml.next();
            if (ev == XMLStreamConstants.START_ELEMENT) {
                if (seenSuperblock || !xml.getLocalName().equals("superblock")) {
                    throw error("expected one <superblock> element, found <" + xml.getLocalName() + ">");
                }
                seenSuperblock = true;
                superblock(v);
            } else if (ev == XMLStreamConstants.CHARACTERS && !xml.isWhiteSpace()) {
                throw error("text outside <superblock>");
            }
        }
        if (!seenSuperblock) {
            throw error("no <superblock> element");
        }
    }

    private void superblock(MetadataVisitor v) throws XMLStreamException {
        String uuid = xml.getAttributeValue(null, "uuid");
        if (uuid == null) {
            throw error("<superblock> lacks the uuid attribute");
        }
        PoolHeader h = new PoolHeader(uuid, u32("time"), u64("transaction"), optU32("flags", 0),
                optU32("version", 1), u32("data_block_size"), u64("nr_data_blocks"));
        if (xml.getAttributeValue(null, "metadata_snap") != null) {
            u64("metadata_snap");
        }
        v.beginSuperblock(h);
        while (true) {
            int ev = next();
            if (ev == XMLStreamConstants.END_ELEMENT) {
                v.endSuperblock();
                return;
            }
            if (!xml.getLocalName().equals("device")) {
                throw error("<" + xml.getLocalName() + "> inside <superblock>; expected <device>");
            }
            device(v);
        }
    }

    private void device(MetadataVisitor v) throws XMLStreamException {
        v.beginDevice(new DeviceHeader(u64("dev_id"), u64("mapped_blocks"), u64("transaction"),
                u32("creation_time"), u32("snap_time")));
        while (true) {
            int ev = next();
            if (ev == XMLStreamConstants.END_ELEMENT) {
                v.endDevice();
                return;
            }
            String name = xml.getLocalName();
            if (!MAPPINGS.contains(name)) {
                throw error("<" + name + "> inside <device>; expected <range_mapping> or <single_mapping>");
            }
            if (name.equals("single_mapping")) {
                long origin = u64("origin_block");
                long data = dataBlock("data_block", 1);
                v.mapping(origin, data, time());
            } else {
                long origin = u64("origin_begin");
                long length = u64("length");
                if (length == 0) {
                    throw error("range_mapping with length 0");
                }
                long data = dataBlock("data_begin", length);
                if (Long.compareUnsigned(origin + length - 1, origin) < 0) {
                    throw error("range_mapping runs past the largest virtual block");
                }
                v.rangeMapping(origin, data, length, time());
            }
            if (next() != XMLStreamConstants.END_ELEMENT) {
                throw error("<" + name + "> must be empty");
            }
        }
    }

    /** The next start or end element, refusing text other than whitespace. */
    private int next() throws XMLStreamException {
        while (true) {
            if (!xml.hasNext()) {
                throw error("unexpected end of document");
            }
            int ev = xml.next();
            switch (ev) {
                case XMLStreamConstants.START_ELEMENT:
                case XMLStreamConstants.END_ELEMENT:
                    return ev;
                case XMLStreamConstants.CHARACTERS:
                case XMLStreamConstants.CDATA:
                    if (!xml.isWhiteSpace()) {
                        throw error("unexpected text \"" + abbreviate(xml.getText().strip()) + "\"");
                    }
                    break;
                case XMLStreamConstants.END_DOCUMENT:
                    throw error("unexpected end of document");
                default:
                    break;
            }
        }
    }

    private int time() {
        long t = u32("time");
        if (t > MAX_TIME) {
            throw error("mapping time " + t + " does not fit the 24 bits of a mapping");
        }
        return (int) t;
    }

    private long dataBlock(String name, long length) {
        long d = u64(name);
        if (Long.compareUnsigned(d, MAX_DATA_BLOCK) > 0 || Long.compareUnsigned(length - 1, MAX_DATA_BLOCK - d) > 0) {
            throw error(name + " " + Long.toUnsignedString(d) + " (length " + Long.toUnsignedString(length)
                    + ") does not fit the 40 bits of a data block number");
        }
        return d;
    }

    private long u64(String name) {
        String s = xml.getAttributeValue(null, name);
        if (s == null) {
            throw error("<" + xml.getLocalName() + "> lacks the " + name + " attribute");
        }
        return parseUnsigned(name, s, -1L);
    }

    private long u32(String name) {
        String s = xml.getAttributeValue(null, name);
        if (s == null) {
            throw error("<" + xml.getLocalName() + "> lacks the " + name + " attribute");
        }
        return parseUnsigned(name, s, 0xFFFFFFFFL);
    }

    private long optU32(String name, long dflt) {
        String s = xml.getAttributeValue(null, name);
        return s == null ? dflt : parseUnsigned(name, s, 0xFFFFFFFFL);
    }

    private long parseUnsigned(String name, String s, long max) {
        long v;
        try {
            v = Long.parseUnsignedLong(s.strip());
        } catch (NumberFormatException e) {
            throw error(name + "=\"" + abbreviate(s) + "\" is not an unsigned number");
        }
        if (Long.compareUnsigned(v, max) > 0) {
            throw error(name + "=\"" + s + "\" is too large (at most " + Long.toUnsignedString(max) + ")");
        }
        return v;
    }

    private DumpFormatException error(String message) {
        Location l = xml == null ? null : xml.getLocation();
        return new DumpFormatException(source, l == null ? -1 : l.getLineNumber(),
                l == null ? -1 : l.getColumnNumber(), message);
    }

    private DumpFormatException malformed(XMLStreamException e) {
        Location l = e.getLocation();
        String msg = e.getMessage();
        // StAX prefixes its messages with "ParseError at [row,col]:[l,c]\nMessage: "; keep the message only
        int at = msg == null ? -1 : msg.indexOf("Message: ");
        return new DumpFormatException(source, l == null ? -1 : l.getLineNumber(), l == null ? -1
                : l.getColumnNumber(), "malformed XML: " + (at >= 0 ? msg.substring(at + 9) : msg), e);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
