package org.thinfs.fs.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The control socket's wire format (docs/CONTROL.md): one JSON object per line, UTF-8, each way. A request names
 * its {@code version} (1) and {@code op}; every reply carries {@code version} and {@code ok}, and {@code error} (one
 * sentence) when not ok. Lines are at most {@link #MAX_LINE} bytes.
 */
public final class ControlProtocol {
    public static final int VERSION = 1;
    public static final String SOCKET = "control.sock";
    /** Longest request line; a longer one is answered with an error and the connection closed. */
    public static final int MAX_LINE = 64 * 1024;
    static final ObjectMapper JSON = new ObjectMapper();

    private ControlProtocol() {
    }

    /** A request that cannot be served; its message goes back as the reply's error. */
    public static final class BadRequest extends RuntimeException {
        public BadRequest(String message) {
            super(message);
        }
    }

    public static ObjectNode request(String op) {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", VERSION);
        n.put("op", op);
        return n;
    }

    public static ObjectNode ok() {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", VERSION);
        n.put("ok", true);
        return n;
    }

    static ObjectNode error(String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", VERSION);
        n.put("ok", false);
        n.put("error", message == null ? "internal error" : message);
        return n;
    }

    /** A required text field. */
    static String text(JsonNode req, String field) {
        JsonNode v = req.get(field);
        if (v == null || !v.isTextual()) {
            throw new BadRequest("'" + field + "' must be a string");
        }
        return v.asText();
    }

    /** An optional non-negative whole number field, or null. */
    static Long bytes(JsonNode req, String field) {
        JsonNode v = req.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw new BadRequest("'" + field + "' must be a non-negative whole number of bytes");
        }
        return v.asLong();
    }
}
