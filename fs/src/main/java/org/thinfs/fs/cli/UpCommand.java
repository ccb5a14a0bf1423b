package org.thinfs.fs.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

@Command(name = "up", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = "The quick start: install libfuse2 if missing, create ./pool if absent, mount it on ./mnt.")
final class UpCommand implements Callable<Integer> {
    @Option(names = "--pool", defaultValue = "pool", description = "Pool directory (default: ${DEFAULT-VALUE}).")
    Path pool;

    @Option(names = "--mountpoint", defaultValue = "mnt", description = "Mount point (default: ${DEFAULT-VALUE}).")
    Path mnt;

    @Option(names = "--size", defaultValue = "20G", converter = Sizes.class,
            description = "Data size of a new pool (sparse; default: ${DEFAULT-VALUE}).")
    long size;

    @Override
    public Integer call() throws Exception {
        ensureLibfuse();
        Path poolDir = pool.toAbsolutePath().normalize();
        Path mount = mnt.toAbsolutePath().normalize();
        if (!new PoolDir(poolDir).exists()) {
            int rc = Main.execute("create", poolDir.toString(), "--size", Long.toString(size));
            if (rc != 0) {
                return rc;
            }
        }
        Files.createDirectories(mount);
        if (MountTable.isMounted(mount)) {
            System.out.println(mount + " is already mounted");
        } else {
            int rc = Main.execute("mount", poolDir.toString(), mount.toString());
            if (rc != 0) {
                return rc;
            }
        }
        String m = Path.of("").toAbsolutePath().relativize(mount).toString();
        System.out.println();
        System.out.println("Try:");
        System.out.println("  truncate -s 10G " + m + "/vm1                 # a 10 GiB thin volume; nothing allocated yet");
        System.out.println("  dd if=/dev/urandom of=" + m + "/vm1 bs=1M count=64 conv=notrunc");
        System.out.println("  du -h " + m + "/vm1; ls -lh " + m + "/vm1          # provisioned vs. virtual size");
        System.out.println("  mkdir " + m + "/snapshots/first                # O(1) snapshot of every volume");
        System.out.println("  ln " + m + "/snapshots/first/vm1 " + m + "/vm1-clone  # writable clone");
        String thinfs = launcher();
        System.out.println("  " + thinfs + " status " + Path.of("").toAbsolutePath().relativize(poolDir));
        System.out.println("  " + thinfs + " umount " + m);
        return 0;
    }

    /**
     * How the user can run thinfs again from here: ./thinfs in the checkout, its path from anywhere else (the
     * launcher script says where it is), "thinfs" when installed on the PATH, else java -jar with the jar's path.
     */
    static String launcher() {
        String script = System.getenv("THINFS_LAUNCHER");
        if (script != null && !script.isEmpty()) {
            Path p = Path.of(script).toAbsolutePath().normalize();
            Path here = Path.of("").toAbsolutePath();
            if (p.getParent().equals(here)) {
                return "./" + p.getFileName();
            }
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                if (!dir.isEmpty() && Path.of(dir, "thinfs").toAbsolutePath().normalize().equals(p)) {
                    return "thinfs";
                }
            }
            return p.toString();
        }
        try {
            Path jar = Path.of(UpCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (jar.toString().startsWith("/usr/")) {
                return "thinfs";
            }
            return "java -jar " + jar;
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return "thinfs";
        }
    }

    private static void ensureLibfuse() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "ldconfig -p | grep -q 'libfuse.so.2'").start();
        p.waitFor(30, TimeUnit.SECONDS);
        if (p.exitValue() == 0) {
            return;
        }
        System.out.println("installing libfuse2 and fuse (jnr-fuse needs libfuse.so.2)...");
        Process apt = new ProcessBuilder("sh", "-c",
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libfuse2 fuse")
                .inheritIO().start();
        if (!apt.waitFor(600, TimeUnit.SECONDS) || apt.exitValue() != 0) {
            throw new IllegalStateException("could not install libfuse2 (run as root, or install libfuse2 and fuse)");
        }
    }
}
