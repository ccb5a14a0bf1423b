package org.thinfs.fs.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code thinfs uninstall}: removes exactly what {@code thinfs install} recorded under the prefix. */
@Command(name = "uninstall", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        header = "Remove what thinfs install put in place.",
        description = "Remove what 'thinfs install' put under PREFIX (and its mount helper), nothing else; files "
                + "changed since they were installed are kept and named. Pools are never touched.")
final class UninstallCommand implements Callable<Integer> {
    @Option(names = "--prefix", defaultValue = "/usr/local", description = "Where thinfs was installed (default: ${DEFAULT-VALUE}).")
    Path prefix;

    @Override
    public Integer call() throws Exception {
        InstallCommand.Layout at = new InstallCommand.Layout(prefix, Path.of("/sbin"));
        InstalledFiles installed = InstalledFiles.read(at.manifest());
        if (installed.isEmpty()) {
            throw new Main.UsageError("thinfs is not installed under " + at.prefix() + " (no " + at.manifest() + ")");
        }
        for (String line : installed.uninstall()) {
            System.out.println(line);
        }
        return 0;
    }
}
