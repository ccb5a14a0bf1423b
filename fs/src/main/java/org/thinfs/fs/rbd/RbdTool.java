package org.thinfs.fs.rbd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Ceph's {@code rbd} command, run as a program (Debian's ceph-common): no Ceph library is linked. Every call names
 * the cluster's configuration and user when given, and fails with one sentence when rbd is missing, the cluster does
 * not answer in time, or rbd says no (its last line of stderr).
 */
public final class RbdTool {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long a metadata command may take: a cluster that does not answer by then is reported. */
    private static final long TIMEOUT_S = Long.getLong("thinfs.rbdTimeoutSeconds", 60);

    private final String conf;
    private final String id;

    /** {@code conf}: a ceph.conf (null: rbd's default); {@code id}: the client name without "client." (or null). */
    public RbdTool(String conf, String id) {
        this.conf = conf;
        this.id = id;
    }

    /** An image spec "RBDPOOL/IMAGE" from "rbd:RBDPOOL/IMAGE"; one sentence for anything else. */
    public static String image(String spec) {
        if (!spec.startsWith("rbd:") || !spec.substring(4).matches("[^/@\\s]+/[^/@\\s]+")) {
            throw new IllegalArgumentException("an RBD image is rbd:POOL/IMAGE, not '" + spec + "'");
        }
        return spec.substring(4);
    }

    private List<String> command(String... args) {
        List<String> c = new ArrayList<>(List.of("rbd"));
        if (conf != null) {
            c.addAll(List.of("--conf", conf));
        }
        if (id != null) {
            c.addAll(List.of("--id", id));
        }
        c.addAll(List.of("--client-mount-timeout", Long.toString(Math.max(5, TIMEOUT_S / 2))));
        c.addAll(List.of(args));
        return c;
    }

    private Process start(List<String> cmd) throws IOException {
        try {
            return new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            throw new IOException("cannot run rbd (" + e.getMessage() + "); install Ceph's command-line tools "
                    + "(Debian: apt install ceph-common)");
        }
    }

    /** Runs {@code rbd ARGS}; its stdout. */
    public String run(String... args) throws IOException {
        List<String> cmd = command(args);
        Process p = start(cmd);
        p.getOutputStream().close();
        CompletableFuture<byte[]> out = drain(p.getInputStream());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("the Ceph cluster did not answer within " + TIMEOUT_S + " s (rbd "
                        + String.join(" ", args) + ")");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (p.exitValue() != 0) {
            throw new IOException("rbd " + args[0] + " failed: " + lastLine(err.join()));
        }
        return new String(out.join(), StandardCharsets.UTF_8);
    }

    /** Runs {@code rbd ARGS --format json}; its output parsed. */
    public JsonNode json(String... args) throws IOException {
        String[] a = java.util.Arrays.copyOf(args, args.length + 2);
        a[args.length] = "--format";
        a[args.length + 1] = "json";
        return JSON.readTree(run(a));
    }

    /** Whether IMAGE exists (rbd info succeeds); a missing pool or an unreachable cluster throws. */
    public boolean exists(String image) throws IOException {
        try {
            run("info", image);
            return true;
        } catch (IOException e) {
            if (e.getMessage().contains("No such file or directory") && e.getMessage().startsWith("rbd info")) {
                return false;
            }
            throw e;
        }
    }

    /** IMAGE's snapshot names, oldest first (by snapshot id). */
    public List<String> snapshots(String image) throws IOException {
        List<JsonNode> snaps = new ArrayList<>();
        json("snap", "ls", image).forEach(snaps::add);
        snaps.sort(java.util.Comparator.comparingLong(s -> s.path("id").asLong()));
        List<String> names = new ArrayList<>();
        snaps.forEach(s -> names.add(s.path("name").asText()));
        return names;
    }

    /** What feeds a streaming rbd's stdin (import-diff -); {@link #feed} closes it and waits for rbd. */
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** What reads a streaming rbd's output (export-diff ... -). */
    public interface Reader {
        void read(InputStream in) throws IOException;
    }

    /** Runs {@code rbd ARGS} with {@code writer} feeding its stdin; fails with rbd's last line of stderr. */
    public void feed(Writer writer, String... args) throws IOException {
        Process p = start(command(args));
        CompletableFuture<byte[]> out = drain(p.getInputStream());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        IOException writeFailure = null;
        try (OutputStream in = new java.io.BufferedOutputStream(p.getOutputStream(), 1 << 20)) {
            writer.write(in);
        } catch (IOException e) {
            writeFailure = e;                             // rbd went first: its own message says why
        }
        finish(p, args, err, writeFailure);
        out.join();
    }

    /** Runs {@code rbd ARGS} with {@code reader} consuming its stdout. */
    public void drainTo(Reader reader, String... args) throws IOException {
        Process p = start(command(args));
        p.getOutputStream().close();
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        IOException readFailure = null;
        try (InputStream in = p.getInputStream()) {
            reader.read(in);
        } catch (IOException e) {
            readFailure = e;
        }
        finish(p, args, err, readFailure);
    }

    private static void finish(Process p, String[] args, CompletableFuture<byte[]> err, IOException ours)
            throws IOException {
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (code != 0) {
            throw new IOException("rbd " + args[0] + " failed: " + lastLine(err.join()));
        }
        if (ours != null) {
            throw ours;
        }
    }

    private static CompletableFuture<byte[]> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return in.readAllBytes();
            } catch (IOException e) {
                return new byte[0];
            }
        });
    }

    private static String lastLine(byte[] stderr) {
        String[] lines = new String(stderr, StandardCharsets.UTF_8).strip().split("\n");
        String l = lines[lines.length - 1].strip();
        return l.isEmpty() ? "(no message)" : l.replaceFirst("^rbd: ", "");
    }
}
