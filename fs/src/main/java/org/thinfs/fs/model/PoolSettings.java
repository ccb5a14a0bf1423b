package org.thinfs.fs.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.core.pool.SpacePolicy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A pool's space policy, kept with it in {@code POOL/settings.json} (the dm-thin format has no room for it). Written
 * whole to a temporary file, fsynced, renamed over: a crash leaves the old settings or the new, never a mix. A pool
 * without the file has {@link SpacePolicy#DEFAULT}.
 */
public final class PoolSettings {
    public static final String FILE = "settings.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PoolSettings() {
    }

    public static SpacePolicy read(Path poolDir) throws IOException {
        return read(poolDir, SpacePolicy.DEFAULT, List.of(SpacePolicy.NAMES), SpacePolicy::with);
    }

    /** The snapshot schedule kept beside the space policy; {@link SnapshotSchedule#NONE} when there is none. */
    public static SnapshotSchedule readSchedule(Path poolDir) throws IOException {
        return read(poolDir, SnapshotSchedule.NONE, SnapshotSchedule.NAMES, SnapshotSchedule::with);
    }

    private interface Setter<T> {
        T with(T settings, String name, String value);
    }

    /** {@code names} from the file applied to {@code initial} ({@code initial} when there is no file). */
    private static <T> T read(Path poolDir, T initial, List<String> names, Setter<T> setter) throws IOException {
        Path f = poolDir.resolve(FILE);
        if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
            return initial;
        }
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(f + " is not a regular file");
        }
        JsonNode n;
        try {
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + " is not valid JSON; fix or remove it (" + e.getMessage().split("\n")[0] + ")");
        }
        T t = initial;
        try {
            for (String name : names) {
                JsonNode v = n.get(name);
                if (v != null) {
                    t = setter.with(t, name, v.asText());
                }
            }
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": " + e.getMessage());
        }
        return t;
    }

    /** Writes the space policy, keeping the schedule that is there. */
    public static void write(Path poolDir, SpacePolicy p) throws IOException {
        write(poolDir, p, readSchedule(poolDir));
    }

    /** Writes both, whole (temporary file, fsync, rename). */
    public static void write(Path poolDir, SpacePolicy p, SnapshotSchedule schedule) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", 1);
        n.put("autoextend-threshold", p.threshold());
        n.put("autoextend-percent", p.percent());
        n.put("autoextend-max", p.maxBytes());
        n.put("when-full", p.whenFull().wire());
        if (!schedule.equals(SnapshotSchedule.NONE)) {
            n.put("snapshot-every", schedule.everyText());
            n.put("keep", schedule.keep().isEmpty() ? "all" : schedule.keep());
            n.put("prune-at", schedule.pruneAt());
        }
        Path target = poolDir.resolve(FILE);
        Path tmp = poolDir.resolve(FILE + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(n));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(poolDir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems cannot fsync a directory
        }
    }
}
