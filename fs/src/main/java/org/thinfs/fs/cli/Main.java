package org.thinfs.fs.cli;

import org.thinfs.core.ThinfsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The {@code thinfs} command. Errors reach the user as one sentence on stderr and a non-zero exit code. */
@Command(name = "thinfs", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, version = "thinfs 0.1.0",
        description = "A thin-provisioning pool in user space, dm-thin compatible, mounted with FUSE.",
        subcommands = {UpCommand.class, CreateCommand.class, MountCommand.class, UmountCommand.class,
                StatusCommand.class, CheckCommand.class, DumpCommand.class, RestoreCommand.class, LsCommand.class,
                DeltaCommand.class, ExportDiffCommand.class, ImportDiffCommand.class, RepairCommand.class,
                ResizeCommand.class, SnapshotCommand.class, SnapshotsCommand.class, RollbackCommand.class,
                PruneCommand.class, BookmarkCommands.Bookmark.class, BookmarkCommands.Bookmarks.class,
                HoldCommands.Hold.class, VolumeCommands.Volume.class, VolumeCommands.ListCommand.class,
                SendCommand.class, ReceiveCommand.class, AdoptCommand.class,
                HoldCommands.Release.class, HoldCommands.Holds.class, MetadataSnapCommand.class, SetCommand.class,
                EventsCommand.class, ServeCommand.class, InstallCommand.class, UninstallCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        // --debug anywhere: stack traces of failures go to stderr (the sentence is printed either way).
        if (java.util.Arrays.asList(args).contains("--debug")) {
            System.setProperty("thinfs.debug", "true");
            args = java.util.Arrays.stream(args).filter(a -> !a.equals("--debug")).toArray(String[]::new);
        }
        CommandLine cl = commandLine();
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println(oneLine(cmd.getCommandSpec().qualifiedName() + ": " + sentence(e)));
            if (Boolean.getBoolean("thinfs.debug")) {
                e.printStackTrace(cmd.getErr());
            }
            return e instanceof UsageError ? 2 : 1;
        });
        cl.setParameterExceptionHandler((e, a) -> {
            CommandLine cmd = e.getCommandLine();
            String name = cmd.getCommandSpec().qualifiedName();
            cmd.getErr().println(oneLine(name + ": " + e.getMessage() + " (see '" + name + " --help')"));
            return 2;
        });
        return cl.execute(args);
    }

    /**
     * The command tree. Help is wrapped by picocli to the terminal's width (80 columns when there is no terminal):
     * every command asks for that in its {@code @Command}, picocli's own {@code help} subcommand gets it here; and
     * lines break at spaces only ({@link SpaceWrappedHelp}), never inside a path or a name.
     */
    static CommandLine commandLine() {
        return new CommandLine(new Main()).setUsageHelpAutoWidth(true).setHelpFactory(SpaceWrappedHelp.FACTORY);
    }

    /** An error is one line: control characters a user typed (or a file name holds) are shown escaped. */
    static String oneLine(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (c == '\n') {
                b.append("\\n");
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    static String sentence(Throwable e) {
        if (e instanceof UncheckedIOException u) {
            e = u.getCause();
        }
        String m = e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file: " + m;
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + m;
        }
        if (e instanceof ThinfsException || e instanceof IOException || e instanceof IllegalArgumentException
                || e instanceof IllegalStateException || e instanceof UsageError
                || e instanceof org.thinfs.fs.model.FsException || e instanceof ru.serce.jnrfuse.FuseException
                || e instanceof org.thinfs.fs.control.ControlClient.Refused) {
            return m == null ? e.getClass().getSimpleName() : m;
        }
        if (e instanceof OutOfMemoryError) {
            return "out of memory (" + m + "); give the JVM more with THINFS_JAVA_OPTS=-Xmx..., or use a larger "
                    + "--block-size";
        }
        return "internal error" + (m == null ? "" : ": " + m) + " (run with --debug for the details)";
    }

    /** A mistake in what the user asked for (exit code 2). */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }
}
