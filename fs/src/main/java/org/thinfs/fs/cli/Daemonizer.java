package org.thinfs.fs.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * How {@code thinfs mount} and {@code thinfs serve} go to the background: the same command again with
 * {@code --foreground}, in a new session (setsid), with a heap sized from the pool (unless THINFS_JAVA_OPTS says
 * otherwise), output appended to the pool's log; the caller returns once the daemon is ready, or fails with the
 * log's last telling line when it exits first.
 */
final class Daemonizer {
    private static final Duration READY_WITHIN = Duration.ofSeconds(60);
    /**
     * The daemon's code is compiled by C1 only. Why: a request spends most of its time in the kernel (the FUSE or
     * socket round trip, the copies, the host's page cache); the daemon's own Java code is a few percent of it. A
     * fresh daemon with both compilers spent a third to a half of its CPU time in C2 during its first workloads (perf,
     * 2-core VM: 52% of its samples during the first cold read of an untarred tree, 33% during the first nbdcopy),
     * taking a core away from the requests; with C1 alone the whole loop-disk workload cost it 0.9-1.2 CPU-s
     * instead of 1.9-2.6, and mkfs and the cold read got faster (BENCHMARKS.md, session 8). The price: pure metadata
     * work runs slower once hot (preallocating 60 GiB, 1 M block mappings: 1.15 s instead of 0.9 s).
     * THINFS_JAVA_OPTS replaces the whole set.
     */
    private static final String CLIENT_COMPILER = "-XX:TieredStopAtLevel=1";
    /**
     * thinfs's own code and Jackson's (the catalog and times log a commit or fsync writes) are compiled after a tenth
     * of the usual number of calls, so the warm-up (Warmup) compiles them all before the mount appears. With the
     * usual thresholds, the warm-up's 300 ms left the commit path interpreted on a slow start (traced with
     * -XX:+PrintCompilation: ThinMetadata.commit, DetailsTree.writeBack and the superblock's write compiled in the
     * middle of a user's first mkfs.ext4, each compilation taking a core from the requests).
     */
    private static final String EARLY_COMPILE = "-XX:CompileCommand=quiet"
            + " -XX:CompileCommand=CompileThresholdScaling,org.thinfs.*::*,0.1"
            + " -XX:CompileCommand=CompileThresholdScaling,com.fasterxml.jackson.*::*,0.1";

    private final Process process;
    private final Path log;

    private Daemonizer(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code thinfs SUBCOMMAND --foreground ARGS...}. {@code directMemoryCap}: whether to cap direct memory
     * at 64 MiB (a mount's FUSE buffers are few; an NBD server's in-flight payloads are not, so it gets none).
     */
    static Daemonizer start(String subcommand, List<String> args, Path log, long heapBytes, boolean directMemoryCap)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        // A bounded heap keeps the daemon's memory predictable: the metadata cache and the space maps' counts are
        // what grows with the pool, so the heap is sized from them.
        long heapMiB = (heapBytes + (1 << 20) - 1) >> 20;
        String opts = System.getenv().getOrDefault("THINFS_JAVA_OPTS", "-Xms32m -Xmx" + heapMiB
                + "m -XX:+UseSerialGC " + CLIENT_COMPILER + " " + EARLY_COMPILE
                + (directMemoryCap ? " -XX:MaxDirectMemorySize=64m" : ""));
        for (String o : opts.trim().split("\\s+")) {
            if (!o.isEmpty()) {
                cmd.add(o);
            }
        }
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=" + System.getProperty("thinfs.daemon.logLevel", "info"));
        cmd.addAll(List.of("--add-opens", "java.base/java.nio=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), subcommand, "--foreground"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true).start();
        return new Daemonizer(p, log);
    }

    long pid() {
        return process.pid();
    }

    /** Waits until {@code ready} holds; fails when the daemon exits first or is not ready within a minute. */
    void awaitReady(BooleanSupplier ready, String notReady) throws InterruptedException {
        long deadline = System.nanoTime() + READY_WITHIN.toNanos();
        while (System.nanoTime() < deadline) {
            if (ready.getAsBoolean()) {
                return;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("the thinfs daemon exited with status " + process.exitValue() + ": "
                        + lastLine(log));
            }
            Thread.sleep(50);
        }
        process.destroy();
        throw new IllegalStateException(notReady + " within " + READY_WITHIN.toSeconds() + " s; see " + log);
    }

    /** The log's last line that tells what went wrong: the daemon's one-sentence error, or an ERROR line. */
    static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) {
                String l = lines.get(i).trim();
                if (l.startsWith("thinfs ") || l.contains("ERROR")) {
                    return l;
                }
            }
            return lines.isEmpty() ? "(empty log)" : lines.get(lines.size() - 1);
        } catch (IOException e) {
            return "see " + log;
        }
    }
}
