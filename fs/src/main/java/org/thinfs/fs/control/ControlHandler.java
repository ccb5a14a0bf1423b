package org.thinfs.fs.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thinfs.core.ThinfsException;
import org.thinfs.core.pool.AutoExtender;
import org.thinfs.core.pool.SpacePolicy;
import org.thinfs.fs.model.FsException;
import org.thinfs.fs.model.PoolFileSystem;
import org.thinfs.fs.model.PoolSettings;
import org.thinfs.fs.model.PoolStatus;
import org.thinfs.fs.model.SpaceResize;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Carries out one control request on the daemon's open pool and says how it went. A front end: it checks the
 * request's shape, calls the model (the same calls the FUSE adapter and the offline commands make) and turns the
 * outcome into a reply; every failure becomes one sentence in {@code error} here, and nothing else.
 */
final class ControlHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ControlHandler.class);

    private final PoolFileSystem fs;
    private final Path poolDir;
    private final AutoExtender extender;
    /** The daemon's front ends, as PoolDaemon records them. */
    private final List<String> servedBy;

    private final SnapshotScheduler scheduler;
    private final VolumeRequests volumeRequests;

    ControlHandler(PoolFileSystem fs, Path poolDir, AutoExtender extender, SnapshotScheduler scheduler,
                   java.util.List<String> servedBy) {
        this.scheduler = scheduler;
        this.volumeRequests = new VolumeRequests(fs.volumes());
        this.servedBy = servedBy;
        this.fs = fs;
        this.poolDir = poolDir;
        this.extender = extender;
    }

    /** The reply to {@code req}; never throws. ({@code events} is the server's, not handled here.) */
    ObjectNode handle(JsonNode req) {
        try {
            if (req == null || !req.isObject()) {
                throw new ControlProtocol.BadRequest("a request must be a JSON object");
            }
            JsonNode v = req.get("version");
            if (v == null || !v.isInt() || v.asInt() != ControlProtocol.VERSION) {
                throw new ControlProtocol.BadRequest("unsupported protocol version " + v + "; this daemon speaks "
                        + ControlProtocol.VERSION);
            }
            String op = ControlProtocol.text(req, "op");
            ObjectNode volumeReply = volumeRequests.handle(op, req);
            if (volumeReply != null) {
                return volumeReply;
            }
            return switch (op) {
                case "status" -> status();
                case "snapshot" -> snapshot(req);
                case "resize" -> resize(req);
                case "metadata-snap" -> metadataSnap(req);
                case "set" -> set(req);
                case "rollback" -> rollback(req);
                case "prune" -> prune(req);
                case "bookmark" -> {
                    JsonNode del = req.get("delete");
                    if (del != null && del.asBoolean()) {
                        fs.snapshots().deleteBookmark(ControlProtocol.text(req, "name"));
                    } else {
                        fs.snapshots().bookmark(ControlProtocol.text(req, "set"), ControlProtocol.text(req, "name"));
                    }
                    yield ControlProtocol.ok();
                }
                case "hold" -> {
                    fs.snapshots().hold(ControlProtocol.text(req, "set"), ControlProtocol.text(req, "tag"));
                    yield ControlProtocol.ok();
                }
                case "release" -> {
                    fs.snapshots().release(ControlProtocol.text(req, "set"), ControlProtocol.text(req, "tag"));
                    yield ControlProtocol.ok();
                }
                case "receive" -> receive(req);
                case "holds" -> {
                    ObjectNode r = ControlProtocol.ok();
                    r.set("holds", ControlProtocol.JSON.valueToTree(fs.snapshots().holds()));
                    yield r;
                }
                default -> throw new ControlProtocol.BadRequest("unknown op '" + op + "'");
            };
        } catch (ControlProtocol.BadRequest | FsException | ThinfsException | IllegalArgumentException
                 | org.thinfs.fs.rbd.RbdImport.Refused e) {
            return ControlProtocol.error(e.getMessage());
        } catch (IOException e) {
            LOG.error("control request failed: {}", e.getMessage());
            return ControlProtocol.error(e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("control request failed", e);
            return ControlProtocol.error("internal error (" + e + "); see the pool's log");
        }
    }

    private ObjectNode status() {
        PoolStatus s = PoolStatus.of(fs, poolDir.toAbsolutePath().toString(), true, true, extender.policy(), scheduler.schedule(),
                List.copyOf(servedBy));
        ObjectNode r = ControlProtocol.ok();
        r.set("status", ControlProtocol.JSON.valueToTree(s));
        return r;
    }

    private ObjectNode snapshot(JsonNode req) {
        String name = ControlProtocol.text(req, "name");
        JsonNode d = req.get("description");
        if (d != null && !d.isNull() && !d.isTextual()) {
            throw new ControlProtocol.BadRequest("'description' must be text");
        }
        JsonNode type = req.get("type");
        JsonNode pre = req.get("pre");
        if (type != null && !type.isNull() && !type.isTextual() || pre != null && !pre.isNull() && !pre.isTextual()) {
            throw new ControlProtocol.BadRequest("'type' and 'pre' must be text");
        }
        fs.snapshots().take(name, volumes(req), d == null || d.isNull() ? null : d.asText(),
                type == null || type.isNull() ? null : type.asText(), pre == null || pre.isNull() ? null : pre.asText());
        LOG.info("snapshot set {} taken over the control socket", name);
        return ControlProtocol.ok();
    }

    /** thinfs receive on a mounted pool: the daemon runs rbd and applies the streams to its open pool. */
    private ObjectNode receive(JsonNode req) throws IOException {
        JsonNode conf = req.get("cephConf");
        JsonNode id = req.get("id");
        org.thinfs.fs.rbd.RbdReceive.Result res = new org.thinfs.fs.rbd.RbdReceive(new org.thinfs.fs.rbd.RbdTool(
                conf == null ? null : conf.asText(), id == null ? null : id.asText()),
                org.thinfs.fs.rbd.RbdTool.image(ControlProtocol.text(req, "image")), ControlProtocol.text(req,
                "volume"), req.path("head").asBoolean(false), req.path("force").asBoolean(false), poolDir)
                .run(fs, line -> LOG.info("receive: {}", line));
        ObjectNode r = ControlProtocol.ok();
        r.setAll((ObjectNode) ControlProtocol.JSON.valueToTree(res));
        return r;
    }

    private ObjectNode rollback(JsonNode req) {
        String set = ControlProtocol.text(req, "set");
        JsonNode force = req.get("force");
        if (force != null && !force.isBoolean()) {
            throw new ControlProtocol.BadRequest("'force' must be true or false");
        }
        JsonNode keep = req.get("snapshot");
        if (keep != null && !keep.isNull() && !keep.isTextual()) {
            throw new ControlProtocol.BadRequest("'snapshot' must be the name of a new snapshot set");
        }
        List<String> volumes = volumes(req);
        fs.snapshots().rollback(set, volumes, force != null && force.asBoolean(), keep == null || keep.isNull() ? null
                : keep.asText());
        LOG.info("rolled {} back to snapshot set {} over the control socket", volumes.isEmpty() ? "every volume"
                : volumes, set);
        return ControlProtocol.ok();
    }

    private ObjectNode prune(JsonNode req) {
        org.thinfs.fs.model.Retention policy = org.thinfs.fs.model.Retention.parse(ControlProtocol.text(req, "keep"));
        JsonNode match = req.get("match");
        JsonNode dry = req.get("dryRun");
        if (match != null && !match.isTextual() || dry != null && !dry.isBoolean()) {
            throw new ControlProtocol.BadRequest("'match' must be a pattern and 'dryRun' true or false");
        }
        var plan = fs.snapshots().prune(policy, match == null ? "*" : match.asText(), dry != null && dry.asBoolean(),
                java.time.ZoneId.systemDefault());
        if (!(dry != null && dry.asBoolean()) && !plan.remove().isEmpty()) {
            LOG.info("pruned snapshot sets {} over the control socket (held, kept: {})", plan.remove(), plan.held());
        }
        ObjectNode r = ControlProtocol.ok();
        plan.remove().forEach(r.putArray("removed")::add);
        plan.held().forEach(r.putArray("held")::add);
        return r;
    }

    /** The optional list of volume names in 'volumes'. */
    private static List<String> volumes(JsonNode req) {
        List<String> volumes = new ArrayList<>();
        JsonNode vs = req.get("volumes");
        if (vs != null && !vs.isNull()) {
            if (!vs.isArray()) {
                throw new ControlProtocol.BadRequest("'volumes' must be a list of names");
            }
            for (JsonNode n : vs) {
                if (!n.isTextual()) {
                    throw new ControlProtocol.BadRequest("'volumes' must be a list of names");
                }
                volumes.add(n.asText());
            }
        }
        return volumes;
    }

    private ObjectNode resize(JsonNode req) throws IOException {
        Long data = ControlProtocol.bytes(req, "data");
        Long metadata = ControlProtocol.bytes(req, "metadata");
        if (data == null && metadata == null) {
            throw new ControlProtocol.BadRequest("give 'data' or 'metadata' in bytes");
        }
        SpaceResize.apply(fs.pool(), data, metadata);
        return ControlProtocol.ok();
    }

    private ObjectNode metadataSnap(JsonNode req) throws IOException {
        String action = ControlProtocol.text(req, "action");
        switch (action) {
            case "hold" -> fs.holdMetadataSnapshot();
            case "release" -> fs.releaseMetadataSnapshot();
            default -> throw new ControlProtocol.BadRequest("'action' must be 'hold' or 'release'");
        }
        ObjectNode r = ControlProtocol.ok();
        r.put("heldMetadataRoot", fs.pool().transaction().heldMetadataRoot());
        return r;
    }

    private ObjectNode set(JsonNode req) throws IOException {
        JsonNode settings = req.get("settings");
        if (settings == null || !settings.isObject() || settings.isEmpty()) {
            throw new ControlProtocol.BadRequest("'settings' must be an object of NAME: VALUE");
        }
        synchronized (this) {
            SpacePolicy p = extender.policy();
            org.thinfs.fs.model.SnapshotSchedule schedule = scheduler.schedule();
            for (Iterator<Map.Entry<String, JsonNode>> it = settings.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isValueNode()) {
                    throw new ControlProtocol.BadRequest("setting '" + e.getKey() + "' must be a string or number");
                }
                if (org.thinfs.fs.model.SnapshotSchedule.NAMES.contains(e.getKey())) {
                    schedule = schedule.with(e.getKey(), e.getValue().asText());
                } else {
                    p = p.with(e.getKey(), e.getValue().asText());
                }
            }
            PoolSettings.write(poolDir, p, schedule);
            extender.setPolicy(p);
            scheduler.setSchedule(schedule);
            LOG.info("space policy set over the control socket: {}", p);
        }
        extender.check();
        ObjectNode r = ControlProtocol.ok();
        r.set("settings", ControlProtocol.JSON.valueToTree(PoolStatus.Settings.of(extender.policy(), scheduler.schedule())));
        return r;
    }
}
