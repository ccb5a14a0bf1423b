package org.thinfs.fs.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sorts the {@code -o} list of a mount, as mount(8) and an fstab line hand it over, into three kinds:
 * <ul>
 * <li>thinfs's own settings, {@code NAME=VALUE} or {@code x-thinfs.NAME=VALUE} (the same names as the
 * {@code thinfs mount} flags without the dashes; the x- form keeps other tools reading fstab from choking on them);
 * <li>FUSE options, passed to the kernel mount;
 * <li>mount(8)'s own options ({@code defaults}, {@code noauto}, {@code _netdev}...) and other tools' {@code x-*}
 * options ({@code x-systemd.*}), which mean nothing to the daemon and are dropped.
 * </ul>
 * Anything else is refused with a sentence naming what is accepted: a typo in fstab must fail the mount, not be
 * silently ignored.
 */
final class MountOptions {
    /** thinfs settings by name, in the order the usage sentence lists them. */
    static final List<String> THINFS = List.of("commit-interval", "metadata-cache", "fuse-threads", "max-request",
            "zeroes", "copies", "direct");

    /** FUSE options that take no value. */
    private static final Set<String> FUSE_FLAGS = Set.of("allow_other", "allow_root", "default_permissions", "ro",
            "auto_unmount", "nonempty", "kernel_cache", "auto_cache", "noforget", "hard_remove", "use_ino", "readdir_ino");
    /** FUSE options of the form NAME=VALUE. */
    private static final Set<String> FUSE_VALUED = Set.of("fsname", "subtype", "max_read", "umask", "uid", "gid",
            "entry_timeout", "negative_timeout", "attr_timeout");
    /** mount(8)'s options, meaningless to the daemon. */
    private static final Set<String> MOUNT8 = Set.of("defaults", "auto", "noauto", "nofail", "_netdev", "user",
            "users", "nouser", "owner", "group", "comment", "rw", "dev", "suid", "exec", "nodev", "nosuid", "noexec",
            "relatime", "norelatime", "noatime", "strictatime", "nodiratime", "lazytime", "async", "loop");

    private final Map<String, String> thinfs = new LinkedHashMap<>();
    private final List<String> fuse = new ArrayList<>();

    private MountOptions() {
    }

    /** Sorts {@code options} (each may itself hold commas); throws a {@link Main.UsageError} on anything unknown. */
    static MountOptions parse(List<String> options) {
        MountOptions m = new MountOptions();
        for (String group : options) {
            for (String raw : group.split(",")) {
                String o = raw.trim();
                if (!o.isEmpty()) {
                    m.add(o);
                }
            }
        }
        return m;
    }

    private void add(String o) {
        int eq = o.indexOf('=');
        String name = eq < 0 ? o : o.substring(0, eq);
        String value = eq < 0 ? null : o.substring(eq + 1);
        if (name.startsWith("x-thinfs.")) {
            setting(name.substring("x-thinfs.".length()), value, o);
        } else if (THINFS.contains(name)) {
            setting(name, value, o);
        } else if (name.startsWith("x-") || MOUNT8.contains(name)) {
            return; // another tool's, or mount(8)'s
        } else if (eq < 0 && FUSE_FLAGS.contains(name) || eq >= 0 && FUSE_VALUED.contains(name)) {
            fuse.add(o);
        } else {
            throw new Main.UsageError("unknown mount option '" + o + "': thinfs takes " + String.join(", ", THINFS)
                    + " (NAME=VALUE, or x-thinfs.NAME=VALUE), FUSE's " + String.join(", ", sorted(FUSE_FLAGS)) + ", "
                    + String.join("=, ", sorted(FUSE_VALUED)) + "=, and mount(8)'s usual options");
        }
    }

    private void setting(String name, String value, String original) {
        if (!THINFS.contains(name)) {
            throw new Main.UsageError("unknown thinfs mount option '" + original + "': the settings are "
                    + String.join(", ", THINFS));
        }
        if (value == null && name.equals("direct")) {
            value = "on";                                  // a flag: -o direct, -o x-thinfs.direct
        }
        if (value == null || value.isEmpty()) {
            throw new Main.UsageError("mount option '" + original + "' needs a value, e.g. " + name + "="
                    + example(name));
        }
        thinfs.put(name, value);
    }

    private static String example(String name) {
        return switch (name) {
            case "commit-interval" -> "2s";
            case "metadata-cache" -> "256M";
            case "fuse-threads" -> "8";
            case "zeroes" -> "unmap";
            case "copies" -> "write";
            default -> "1M";
        };
    }

    /** An on/off setting's value: on, off (also yes/no, true/false, 1/0). */
    static boolean onOff(String name, String v) {
        return switch (v) {
            case "on", "yes", "true", "1" -> true;
            case "off", "no", "false", "0" -> false;
            default -> throw new IllegalArgumentException("'" + v + "' is not on or off");
        };
    }

    private static List<String> sorted(Set<String> s) {
        return s.stream().sorted().toList();
    }

    /** thinfs settings given as options, by name (see {@link #THINFS}); the last of a name wins. */
    Map<String, String> settings() {
        return thinfs;
    }

    /** The options for the FUSE mount, in the order given. */
    List<String> fuseOptions() {
        return fuse;
    }
}
