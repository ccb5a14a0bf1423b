package org.thinfs.fs.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code thinfs install} wrote, kept as a manifest next to the installed jar: one line per file
 * ({@code file SHA-256 PATH}) and per directory it had to make ({@code dir PATH}). The manifest is the only
 * authority for both commands: install overwrites a file only if the manifest lists it with the content it still
 * has, and uninstall removes exactly what it lists (a file changed since keeps its place and is named), then the
 * directories it made, if empty.
 */
final class InstalledFiles {
    /** A file to be installed: where, what, and whether it is executable. */
    record Entry(Path path, byte[] content, boolean executable) {
    }

    private final Path manifest;
    /** Installed file -> SHA-256 of the content written, in the order written. */
    private final Map<Path, String> files = new LinkedHashMap<>();
    /** Directories install made, parents first. */
    private final List<Path> dirs = new ArrayList<>();

    private InstalledFiles(Path manifest) {
        this.manifest = manifest;
    }

    /** The manifest at {@code manifest}, empty if there is none. */
    static InstalledFiles read(Path manifest) throws IOException {
        InstalledFiles m = new InstalledFiles(manifest);
        if (!Files.exists(manifest)) {
            return m;
        }
        for (String line : Files.readAllLines(manifest)) {
            String[] f = line.split(" ", 3);
            if (f.length == 3 && f[0].equals("file")) {
                m.files.put(Path.of(f[2]), f[1]);
            } else if (f.length >= 2 && f[0].equals("dir")) {
                m.dirs.add(Path.of(line.substring("dir ".length())));
            } else if (!line.isBlank()) {
                throw new IOException("install manifest " + manifest + " has a line it does not understand: " + line);
            }
        }
        return m;
    }

    boolean isEmpty() {
        return files.isEmpty() && dirs.isEmpty();
    }

    /**
     * Installs {@code entries}: refuses, before writing anything, if one of them exists and is not ours as the
     * manifest records it; then writes each (a temporary file renamed into place, so a reader never sees half a
     * file), removes what an earlier install wrote that is no longer part of it, and writes the manifest last.
     * Returns one line per file saying what happened to it.
     */
    List<String> install(List<Entry> entries) throws IOException {
        for (Entry e : entries) {
            if (Files.exists(e.path(), java.nio.file.LinkOption.NOFOLLOW_LINKS) && !unchangedSinceInstall(e.path())) {
                throw new IllegalStateException("refusing to overwrite " + e.path() + ": thinfs install did not write "
                        + "it" + (files.containsKey(e.path()) ? " as it is now (it was changed since)" : "")
                        + "; move it away or choose another --prefix");
            }
        }
        List<String> said = new ArrayList<>();
        Map<Path, String> before = new LinkedHashMap<>(files);
        files.clear();
        for (Entry e : entries) {
            makeParents(e.path());
            String sum = sha256(e.content());
            if (sum.equals(before.get(e.path())) && Files.exists(e.path())) {
                said.add("unchanged " + e.path());
            } else {
                write(e);
                said.add("wrote " + e.path());
            }
            files.put(e.path(), sum);
        }
        for (Path old : before.keySet()) {
            if (!files.containsKey(old) && Files.deleteIfExists(old)) {
                said.add("removed " + old + " (no longer installed)");
            }
        }
        save();
        return said;
    }

    /** Removes what the manifest lists and the manifest itself; returns one line per path. */
    List<String> uninstall() throws IOException {
        List<String> said = new ArrayList<>();
        for (Map.Entry<Path, String> f : files.entrySet()) {
            Path p = f.getKey();
            if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                said.add("already gone " + p);
            } else if (f.getValue().equals(sha256(Files.readAllBytes(p)))) {
                Files.delete(p);
                said.add("removed " + p);
            } else {
                said.add("kept " + p + " (changed since it was installed)");
            }
        }
        Files.deleteIfExists(manifest);
        for (int i = dirs.size() - 1; i >= 0; i--) {
            Path d = dirs.get(i);
            try (var list = Files.list(d)) {
                if (list.findAny().isEmpty()) {
                    Files.delete(d);
                    said.add("removed " + d + "/");
                }
            } catch (java.nio.file.NoSuchFileException gone) {
                // removed by hand: nothing to do
            }
        }
        return said;
    }

    private boolean unchangedSinceInstall(Path p) throws IOException {
        String sum = files.get(p);
        return sum != null && Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                && sum.equals(sha256(Files.readAllBytes(p)));
    }

    private void makeParents(Path file) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path d = file.getParent(); d != null && !Files.exists(d); d = d.getParent()) {
            missing.add(0, d);
        }
        for (Path d : missing) {
            Files.createDirectory(d);
            dirs.add(d);
        }
    }

    private static void write(Entry e) throws IOException {
        Path tmp = e.path().resolveSibling("." + e.path().getFileName() + ".thinfs-install");
        Files.write(tmp, e.content());
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(e.executable() ? "rwxr-xr-x" : "rw-r--r--"));
        Files.move(tmp, e.path(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void save() throws IOException {
        makeParents(manifest);
        StringBuilder b = new StringBuilder();
        for (Path d : dirs) {
            b.append("dir ").append(d).append('\n');
        }
        for (Map.Entry<Path, String> f : files.entrySet()) {
            b.append("file ").append(f.getValue()).append(' ').append(f.getKey()).append('\n');
        }
        Files.writeString(manifest, b.toString(), StandardCharsets.UTF_8);
    }

    static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new UncheckedIOException(new IOException("this Java has no SHA-256", e));
        }
    }
}
