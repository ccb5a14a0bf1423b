package org.thinfs.fs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.thinfs.fs.control.ControlProtocol;
import org.thinfs.fs.control.VolumeRequests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code thinfs volume create|delete|clone|rename|resize} and {@code thinfs list}: the control socket's volume ops
 * from the shell. Each builds the socket request; a mounted or served pool's daemon carries it out, an unmounted
 * pool's files get the very same request through {@link VolumeRequests} (one code path, as status).
 */
final class VolumeCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private VolumeCommands() {
    }

    /** Sends op with {@code fields} (name, value pairs: strings or longs), then prints {@code done}. */
    private static void change(Path dir, String op, String done, Object... fields) throws Exception {
        ObjectNode r = ControlProtocol.request(op);
        for (int i = 0; i < fields.length; i += 2) {
            if (fields[i + 1] instanceof Long l) {
                r.put((String) fields[i], l);
            } else {
                r.put((String) fields[i], (String) fields[i + 1]);
            }
        }
        run(dir, r);
        System.out.println(done);
    }

    static JsonNode run(Path dir, ObjectNode request) throws Exception {
        String op = request.get("op").asText();
        return PoolOps.run(Pools.requirePool(dir), request, fs -> new VolumeRequests(fs.volumes()).handle(op, request));
    }

    @Command(name = "volume", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Create, delete, clone, rename or resize a volume.",
            description = "The volume operations of the control socket, mounted or not (as a file operation on the "
                    + "mount does them): each is committed before the command returns.",
            subcommands = {Create.class, Delete.class, Clone.class, Rename.class, Resize.class})
    static final class Volume implements Runnable {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Create an empty volume, or one over a read-only base image.",
            description = {"As truncate -s SIZE on a new file of the mount.",
                    "With --origin BASE (a file or block device, never written): the volume reads BASE where it has "
                            + "not been written, as a qcow2 backing file or dm-thin's external origin; the first "
                            + "write to a block copies the rest of that block from BASE. SIZE defaults to BASE's. "
                            + "BASE's size, inode and modification time are recorded: if it changes, the volume "
                            + "refuses to open. Snapshots and clones keep BASE."})
    static final class Create implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Parameters(index = "1", paramLabel = "NAME")
        String name;
        @Parameters(index = "2", paramLabel = "SIZE", arity = "0..1", converter = Sizes.class,
                description = "e.g. 20G (with --origin: BASE's size if left out)")
        Long size;
        @Option(names = "--origin", paramLabel = "BASE", description = "Read unwritten blocks from this image.")
        Path origin;
        @Option(names = "--origin-discard", paramLabel = "origin|zero", defaultValue = "origin",
                description = "What a discard (trim, punch hole) of a volume over BASE leaves: BASE's bytes again "
                        + "(origin, as dm-thin; default) or zeros (zero: the blocks are mapped, zeroed).")
        String originDiscard;

        @Override
        public Integer call() throws Exception {
            if (origin == null) {
                if (size == null) {
                    throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                            "Missing required parameter: 'SIZE' (or --origin BASE)");
                }
                change(dir, "volume-create", "created " + name + " (" + Sizes.human(size) + ")", "name", name,
                        "size", size);
                return 0;
            }
            if (!originDiscard.equals("origin") && !originDiscard.equals("zero")) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--origin-discard is origin or zero, not '" + originDiscard + "'");
            }
            ObjectNode r = ControlProtocol.request("volume-create");
            r.put("name", name);
            r.put("origin", origin.toAbsolutePath().normalize().toString());
            if (size != null) {
                r.put("size", size);
            }
            r.put("originDiscard", originDiscard);
            run(dir, r);
            System.out.println("created " + name + " over " + origin.toAbsolutePath().normalize()
                    + (size == null ? "" : " (" + Sizes.human(size) + ")"));
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Delete a volume.", description = "As rm on the mount: the blocks only it maps are freed "
            + "(when it is open, at its last close). Its snapshots stay.")
    static final class Delete implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Parameters(index = "1", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            change(dir, "volume-delete", "deleted " + name, "name", name);
            return 0;
        }
    }

    @Command(name = "clone", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Make a writable clone of a volume or snapshot.",
            description = "As ln on the mount: NAME shares every block with SOURCE until one of them writes.")
    static final class Clone implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Parameters(index = "1", paramLabel = "SOURCE", description = "A volume or snapshots/SET/VOLUME.")
        String source;
        @Parameters(index = "2", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            change(dir, "volume-clone", "cloned " + source + " to " + name, "source", source, "name", name);
            return 0;
        }
    }

    @Command(name = "rename", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Rename a volume.", description = "Unlike mv, never replaces a volume: TO must be free.")
    static final class Rename implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Parameters(index = "1", paramLabel = "FROM")
        String from;
        @Parameters(index = "2", paramLabel = "TO")
        String to;

        @Override
        public Integer call() throws Exception {
            change(dir, "volume-rename", "renamed " + from + " to " + to, "from", from, "to", to);
            return 0;
        }
    }

    @Command(name = "resize", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Change a volume's virtual size.",
            description = "As truncate -s: growing maps nothing; shrinking unmaps everything past the new end.")
    static final class Resize implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Parameters(index = "1", paramLabel = "NAME")
        String name;
        @Parameters(index = "2", paramLabel = "SIZE", converter = Sizes.class)
        long size;

        @Override
        public Integer call() throws Exception {
            change(dir, "volume-resize", "resized " + name + " to " + Sizes.human(size), "name", name, "size", size);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "List a pool's volumes and snapshot sets with their space.",
            description = "Per volume: size, thin device id, bytes mapped and bytes only it maps (what deleting it "
                    + "frees); then each snapshot set's volumes. Live when the pool is mounted or served.")
    static final class ListCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "POOL")
        Path dir;
        @Option(names = "--json", description = "Print {volumes: [...], snapshots: [...]} for scripts.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode list = run(dir, ControlProtocol.request("list")).path("list");
            if (json) {
                System.out.println(JSON.writeValueAsString(list));
                return 0;
            }
            System.out.printf("%-32s %6s %12s %12s %12s  %s%n", "NAME", "ID", "SIZE", "MAPPED", "EXCLUSIVE",
                    "BASE");
            print("", list.path("volumes"));
            for (JsonNode set : list.path("snapshots")) {
                print("snapshots/" + set.path("name").asText() + "/", set.path("volumes"));
            }
            return 0;
        }

        private static void print(String prefix, JsonNode volumes) {
            for (JsonNode v : volumes) {
                JsonNode base = v.path("base");
                String shown = base.isMissingNode() || base.isNull() ? ""
                        : base.path("path").asText() + (base.hasNonNull("problem")
                        ? " (unusable: " + base.path("problem").asText() + ")" : "");
                System.out.printf("%-32s %6d %12s %12s %12s  %s%n", prefix + v.path("name").asText(),
                        v.path("id").asLong(), Sizes.human(v.path("size").asLong()),
                        Sizes.human(v.path("mappedBytes").asLong()), Sizes.human(v.path("exclusiveBytes").asLong()),
                        shown);
            }
        }
    }
}
