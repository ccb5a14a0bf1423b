package org.thinfs.core.tools;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * Writes visitor events as the JSON of {@code thinfs dump --format json}, streaming (constant memory however many
 * mappings). Same content and run merging as the XML (FORMAT.md 14), with snake_case names:
 * <pre>
 * {"superblock": {"uuid": "", "time": 2, "transaction": 9, "flags": 0, "version": 2,
 *                 "data_block_size": 128, "nr_data_blocks": 1024},
 *  "devices": [{"dev_id": 1, "mapped_blocks": 64, "transaction": 9, "creation_time": 0, "snap_time": 2,
 *               "mappings": [{"origin_begin": 0, "data_begin": 0, "length": 30, "time": 0}, ...]}]}
 * </pre>
 * Every run is one object, a single mapping being a run of length 1. Numbers are unsigned; values above 2^63
 * (only possible for u64 fields) print as unsigned decimal numbers too.
 */
public final class JsonDumpWriter implements MetadataVisitor {
    private static final JsonFactory FACTORY = new JsonFactory();

    private final JsonGenerator json;
    private long runOrigin;
    private long runData;
    private int runTime;
    private long runLength;

    public JsonDumpWriter(OutputStream out, boolean pretty) {
        this(create(() -> FACTORY.createGenerator(out, JsonEncoding.UTF8)), pretty);
    }

    public JsonDumpWriter(Writer out, boolean pretty) {
        this(create(() -> FACTORY.createGenerator(out)), pretty);
    }

    private JsonDumpWriter(JsonGenerator g, boolean pretty) {
        this.json = g;
        g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        if (pretty) {
            g.useDefaultPrettyPrinter();
        }
    }

    private interface GeneratorSupplier {
        JsonGenerator get() throws IOException;
    }

    private static JsonGenerator create(GeneratorSupplier s) {
        try {
            return s.get();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void beginSuperblock(PoolHeader h) {
        io(() -> {
            json.writeStartObject();
            json.writeObjectFieldStart("superblock");
            json.writeStringField("uuid", h.uuid());
            number("time", h.time());
            number("transaction", h.transaction());
            number("flags", h.flags());
            number("version", h.version());
            number("data_block_size", h.dataBlockSize());
            number("nr_data_blocks", h.nrDataBlocks());
            json.writeEndObject();
            json.writeArrayFieldStart("devices");
        });
    }

    @Override
    public void endSuperblock() {
        io(() -> {
            json.writeEndArray();
            json.writeEndObject();
            json.writeRaw('\n');
            json.flush();
        });
    }

    @Override
    public void beginDevice(DeviceHeader h) {
        io(() -> {
            json.writeStartObject();
            number("dev_id", h.devId());
            number("mapped_blocks", h.mappedBlocks());
            number("transaction", h.transaction());
            number("creation_time", h.creationTime());
            number("snap_time", h.snapTime());
            json.writeArrayFieldStart("mappings");
        });
    }

    @Override
    public void endDevice() {
        flushRun();
        io(() -> {
            json.writeEndArray();
            json.writeEndObject();
        });
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
        io(() -> {
            json.writeStartObject();
            number("origin_begin", runOrigin);
            number("data_begin", runData);
            number("length", runLength);
            number("time", Integer.toUnsignedLong(runTime));
            json.writeEndObject();
        });
        runLength = 0;
    }

    private void number(String name, long v) throws IOException {
        json.writeFieldName(name);
        if (v >= 0) {
            json.writeNumber(v);
        } else {
            json.writeNumber(new java.math.BigInteger(Long.toUnsignedString(v)));
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void io(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
