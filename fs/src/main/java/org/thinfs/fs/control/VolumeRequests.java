package org.thinfs.fs.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.fs.model.VolumeLifecycle;

/**
 * The control socket's volume ops ({@code volume-create}, {@code -delete}, {@code -clone}, {@code -rename},
 * {@code -resize}, {@code snapshot-delete}, {@code list}): each reads its fields and calls {@link VolumeLifecycle},
 * which checks names and sizes and commits before the reply. Failures go back through ControlHandler's one mapping.
 */
public final class VolumeRequests {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeRequests.class);

    private final VolumeLifecycle volumes;

    public VolumeRequests(VolumeLifecycle volumes) {
        this.volumes = volumes;
    }

    /** The reply to {@code op}, or null when {@code op} is not one of these. */
    public ObjectNode handle(String op, JsonNode req) {
        switch (op) {
            case "volume-create" -> {
                String name = ControlProtocol.text(req, "name");
                JsonNode origin = req.get("origin");
                if (origin == null || origin.isNull()) {
                    volumes.create(name, size(req));
                    LOG.info("volume {} created over the control socket", name);
                } else {
                    createOver(name, req);
                }
            }
            case "volume-delete" -> {
                String name = ControlProtocol.text(req, "name");
                volumes.delete(name);
                LOG.info("volume {} deleted over the control socket", name);
            }
            case "volume-clone" -> {
                String source = ControlProtocol.text(req, "source");
                String name = ControlProtocol.text(req, "name");
                volumes.clone(source, name);
                LOG.info("volume {} cloned from {} over the control socket", name, source);
            }
            case "volume-rename" -> {
                String from = ControlProtocol.text(req, "from");
                String to = ControlProtocol.text(req, "to");
                volumes.rename(from, to);
                LOG.info("volume {} renamed to {} over the control socket", from, to);
            }
            case "volume-resize" -> {
                String name = ControlProtocol.text(req, "name");
                long size = size(req);
                volumes.resize(name, size);
                LOG.info("volume {} resized to {} bytes over the control socket", name, size);
            }
            case "snapshot-delete" -> {
                String name = ControlProtocol.text(req, "name");
                volumes.deleteSnapshot(name);
                LOG.info("snapshot set {} deleted over the control socket", name);
            }
            case "list" -> {
                ObjectNode r = ControlProtocol.ok();
                r.set("list", ControlProtocol.JSON.valueToTree(volumes.list()));
                return r;
            }
            default -> {
                return null;
            }
        }
        return ControlProtocol.ok();
    }

    /** volume-create with {@code origin} (an absolute path) and optional {@code size}, {@code originDiscard}. */
    private void createOver(String name, JsonNode req) {
        String origin = ControlProtocol.text(req, "origin");
        if (!origin.startsWith("/")) {
            throw new ControlProtocol.BadRequest("'origin' must be an absolute path, not '" + origin + "'");
        }
        Long size = ControlProtocol.bytes(req, "size");
        JsonNode d = req.get("originDiscard");
        String discard = d == null || d.isNull() ? "origin" : ControlProtocol.text(req, "originDiscard");
        if (!discard.equals("origin") && !discard.equals("zero")) {
            throw new ControlProtocol.BadRequest("'originDiscard' is origin or zero, not '" + discard + "'");
        }
        volumes.createOver(name, java.nio.file.Path.of(origin), size == null ? -1 : size, discard.equals("zero"));
        LOG.info("volume {} created over base image {} over the control socket", name, origin);
    }

    private static long size(JsonNode req) {
        Long size = ControlProtocol.bytes(req, "size");
        if (size == null) {
            throw new ControlProtocol.BadRequest("'size' must be a non-negative whole number of bytes");
        }
        return size;
    }
}
