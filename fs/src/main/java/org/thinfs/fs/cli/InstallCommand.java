package org.thinfs.fs.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * {@code thinfs install}: the running jar, a launcher, the mount(8) helper, man pages and bash completion made from
 * the picocli model, and a systemd template unit, under a prefix; {@link InstalledFiles} keeps the record that makes
 * it idempotent and {@code thinfs uninstall} exact.
 */
@Command(name = "install", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Install thinfs, its mount helper, man pages, completion and systemd unit.",
        description = "Install thinfs as a system tool: PREFIX/bin/thinfs, the mount helper SBIN/mount.fuse.thinfs "
                + "(for 'mount -t fuse.thinfs' and fstab), man pages, bash completion and the systemd unit "
                + "thinfs@.service. Run again to update; refuses to overwrite files it did not install.")
final class InstallCommand implements Callable<Integer> {
    @Option(names = "--prefix", defaultValue = "/usr/local", description = "Where to install (default: ${DEFAULT-VALUE}).")
    Path prefix;

    @Option(names = "--sbin-dir", defaultValue = "/sbin",
            description = "Where the mount helper goes (default: ${DEFAULT-VALUE}, the only place mount(8) looks "
                    + "for helpers).")
    Path sbinDir;

    @Override
    public Integer call() throws Exception {
        Layout at = new Layout(prefix, sbinDir);
        List<InstalledFiles.Entry> entries = new ArrayList<>();
        Path jar = runningJar();
        entries.add(new InstalledFiles.Entry(at.jar(), Files.readAllBytes(jar), false));
        entries.add(new InstalledFiles.Entry(at.launcher(), template("thinfs.sh", at), true));
        entries.add(new InstalledFiles.Entry(at.mountHelper(), template("mount.fuse.thinfs", at), true));
        entries.add(new InstalledFiles.Entry(at.unit(), template("thinfs@.service", at), false));
        String completion = AutoComplete.bash("thinfs", new CommandLine(new Main()));
        entries.add(new InstalledFiles.Entry(at.completion(), completion.getBytes(StandardCharsets.UTF_8), false));
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            List<? extends ZipEntry> pages = zip.stream().filter(z -> z.getName().startsWith("man/") && z.getName().endsWith(".1"))
                    .sorted(java.util.Comparator.comparing(ZipEntry::getName)).toList();
            if (pages.isEmpty()) {
                throw new IOException("the thinfs jar " + jar + " holds no man pages (a broken build?)");
            }
            for (ZipEntry z : pages) {
                try (InputStream in = zip.getInputStream(z)) {
                    entries.add(new InstalledFiles.Entry(at.manDir().resolve(z.getName().substring(4)),
                            in.readAllBytes(), false));
                }
            }
        }
        for (String line : InstalledFiles.read(at.manifest()).install(entries)) {
            System.out.println(line);
        }
        System.out.println("installed thinfs under " + at.prefix + "; undo with: " + at.launcher() + " uninstall"
                + (at.prefix.equals(Path.of("/usr/local")) ? "" : " --prefix " + at.prefix));
        return 0;
    }

    /** The jar this command runs from: what gets installed. */
    private static Path runningJar() throws URISyntaxException {
        Path p = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!Files.isRegularFile(p) || !p.toString().endsWith(".jar")) {
            throw new IllegalStateException("install runs from the thinfs jar (./thinfs install), not from " + p);
        }
        return p;
    }

    /** A file of the jar's install/ folder with @PREFIX@ and @JAVA@ (the Java running this) filled in. */
    private static byte[] template(String name, Layout at) throws IOException {
        try (InputStream in = InstallCommand.class.getResourceAsStream("/install/" + name)) {
            if (in == null) {
                throw new IOException("the thinfs jar lacks install/" + name + " (a broken build?)");
            }
            String java = ProcessHandle.current().info().command().orElse("java");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("@PREFIX@", at.prefix().toString())
                    .replace("@JAVA@", java).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Where each installed file goes. */
    record Layout(Path prefix, Path sbin) {
        Layout {
            prefix = prefix.toAbsolutePath().normalize();
            sbin = sbin.toAbsolutePath().normalize();
        }

        Path launcher() {
            return prefix.resolve("bin/thinfs");
        }

        Path jar() {
            return prefix.resolve("lib/thinfs/thinfs.jar");
        }

        Path manifest() {
            return prefix.resolve("lib/thinfs/install-manifest");
        }

        Path mountHelper() {
            return sbin.resolve("mount.fuse.thinfs");
        }

        Path unit() {
            return prefix.resolve("lib/systemd/system/thinfs@.service");
        }

        Path completion() {
            return prefix.resolve("share/bash-completion/completions/thinfs");
        }

        Path manDir() {
            return prefix.resolve("share/man/man1");
        }
    }
}
