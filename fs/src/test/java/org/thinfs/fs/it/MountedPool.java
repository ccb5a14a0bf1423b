package org.thinfs.fs.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A pool created and mounted through the thinfs jar, as a user does it. {@link #close()} unmounts (lazily if it
 * must) and waits for the daemon, so a failing test never leaves a mount behind.
 */
final class MountedPool implements AutoCloseable {
    static final Path JAR = Path.of("target/thinfs.jar").toAbsolutePath();

    final Path dir;
    final Path pool;
    final Path mnt;

    MountedPool(Path dir, String size, String... createArgs) throws Exception {
        this.dir = dir;
        this.pool = dir.resolve("pool");
        this.mnt = dir.resolve("mnt");
        Files.createDirectories(mnt);
        List<String> create = new ArrayList<>(List.of("create", pool.toString(), "--size", size));
        create.addAll(List.of(createArgs));
        thinfs(create.toArray(new String[0])).ok();
        mount();
    }

    private MountedPool(Path dir) {
        this.dir = dir;
        this.pool = dir.resolve("pool");
        this.mnt = dir.resolve("mnt");
    }

    /** Mounts an existing pool directory {@code dir/pool}. */
    static MountedPool existing(Path dir) throws Exception {
        MountedPool p = new MountedPool(dir);
        Files.createDirectories(p.mnt);
        p.mount();
        return p;
    }

    void mount(String... extra) throws Exception {
        mountWith(java.util.Map.of(), extra);
    }

    /** Mounts with {@code env} added to the daemon's environment (THINFS_JAVA_OPTS, for one). */
    void mountWith(java.util.Map<String, String> env, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mount", pool.toString(), mnt.toString(), "--commit-interval",
                "300ms"));
        cmd.addAll(List.of(extra));
        List<String> full = new ArrayList<>(List.of("java", "-jar", JAR.toString()));
        full.addAll(cmd);
        Sh.run(dir, full, env).ok();
    }

    /** Creates the pool and leaves it unmounted. */
    static MountedPool created(Path dir, String size, String... createArgs) throws Exception {
        MountedPool p = new MountedPool(dir);
        Files.createDirectories(p.mnt);
        List<String> create = new ArrayList<>(List.of("create", p.pool.toString(), "--size", size));
        create.addAll(List.of(createArgs));
        p.thinfs(create.toArray(new String[0])).ok();
        return p;
    }

    Sh.Result thinfs(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        return Sh.run(dir, cmd);
    }

    Sh.Result sh(String script) throws Exception {
        return Sh.bash(mnt, script);
    }

    boolean mounted() throws IOException {
        return Files.readString(Path.of("/proc/mounts")).contains(" " + mnt + " ");
    }

    long daemonPid() throws IOException {
        return Long.parseLong(Files.readString(pool.resolve("thinfs.pid")).trim());
    }

    /**
     * After the daemon was killed ({@code kill -9 PID} from a test): waits for it to be gone, drops the dead mount
     * and the pid file it left, so {@link #mount()} works again.
     */
    void afterKill(long pid) throws Exception {
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
        Sh.run(dir, List.of("fusermount", "-u", "-z", mnt.toString()));
        Files.deleteIfExists(pool.resolve("thinfs.pid"));
    }

    /** SIGKILL of the daemon now, then {@link #afterKill}. */
    void kill9() throws Exception {
        long pid = daemonPid();
        Sh.run(dir, List.of("kill", "-9", Long.toString(pid))).ok();
        afterKill(pid);
    }

    void unmount() throws Exception {
        thinfs("umount", mnt.toString()).ok();
    }

    @Override
    public void close() throws Exception {
        if (mounted()) {
            Sh.Result r = thinfs("umount", mnt.toString());
            if (r.code() != 0 || mounted()) {
                Sh.run(dir, List.of("fusermount", "-u", "-z", mnt.toString()));
            }
        }
    }
}
