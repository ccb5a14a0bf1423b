package org.thinfs.fs.cli;

import org.thinfs.core.ThinfsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The {@code thinfs} command. Errors reach the user as one sentence on stderr and a non-zero exit code. */
@Command(name = "thinfs", mixinStandardHelpOptions = true, version = "thinfs 0.1.0",
        description = "A thin-provisioning pool in user space, dm-thin compatible, mounted with FUSE.",
        subcommands = {UpCommand.class, CreateCommand.class, MountCommand.class, UmountCommand.class,
                StatusCommand.class, CheckCommand.class, DumpCommand.class, RestoreCommand.class, LsCommand.class,
                DeltaCommand.class, ExportDiffCommand.class, ImportDiffCommand.class, RepairCommand.class,
                ResizeCommand.class,
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
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("thinfs " + cmd.getCommandName() + ": " + sentence(e));
            if (Boolean.getBoolean("thinfs.debug")) {
                e.printStackTrace(cmd.getErr());
            }
            return e instanceof UsageError ? 2 : 1;
        });
        cl.setParameterExceptionHandler((e, a) -> {
            CommandLine cmd = e.getCommandLine();
            String name = cmd.getParent() == null ? "thinfs" : "thinfs " + cmd.getCommandName();
            cmd.getErr().println(name + ": " + e.getMessage() + " (see '" + name + " --help')");
            return 2;
        });
        return cl.execute(args);
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
                || e instanceof org.thinfs.fs.model.FsException) {
            return m == null ? e.getClass().getSimpleName() : m;
        }
        return e + (m == null ? "" : "");
    }

    /** A mistake in what the user asked for (exit code 2). */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }
}
