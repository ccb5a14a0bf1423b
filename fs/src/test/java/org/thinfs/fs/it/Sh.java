package org.thinfs.fs.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command with a timeout; output and exit code come back together. */
final class Sh {
    record Result(int code, String out) {
        Result ok() {
            if (code != 0) {
                throw new AssertionError("exit " + code + ": " + out);
            }
            return this;
        }
    }

    private Sh() {
    }

    static Result run(Path dir, List<String> cmd) throws IOException, InterruptedException {
        return run(dir, cmd, java.util.Map.of());
    }

    /** With {@code env} added to the environment. */
    static Result run(Path dir, List<String> cmd, java.util.Map<String, String> env)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Runs a bash snippet in {@code dir}. */
    static Result bash(Path dir, String script) throws IOException, InterruptedException {
        return run(dir, List.of("bash", "-c", "set -o pipefail; " + script));
    }
}
