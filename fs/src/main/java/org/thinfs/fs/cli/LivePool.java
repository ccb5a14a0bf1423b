package org.thinfs.fs.cli;

import org.thinfs.fs.control.ControlClient;
import org.thinfs.fs.control.ControlProtocol;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How a command reaches a pool: through the mount daemon's control socket when the pool is mounted, from its files
 * when it is not, so that scripts need not care which.
 */
final class LivePool {
    private LivePool() {
    }

    /** A connection to the pool's daemon, or null when the pool is not mounted. */
    static ControlClient connect(PoolDir pool) {
        Path sock = pool.dir().resolve(ControlProtocol.SOCKET);
        if (Files.exists(sock)) {
            try {
                return ControlClient.connect(pool.dir());
            } catch (IOException e) {
                // a killed daemon's socket: nobody listens; fall through to whether a daemon still runs
            }
        }
        if (daemonRuns(pool)) {
            throw new IllegalStateException("pool " + pool.dir() + " is mounted but its daemon does not answer on "
                    + sock + "; see " + pool.log());
        }
        return null;
    }

    static boolean daemonRuns(PoolDir pool) {
        try {
            long pid = Long.parseLong(Files.readString(pool.dir().resolve("thinfs.pid")).trim());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    /** A change to an unmounted pool's files, holding the pool's lock so that no mount starts meanwhile. */
    interface OfflineChange {
        void run() throws Exception;
    }

    static void offline(PoolDir pool, OfflineChange change) throws Exception {
        try (FileChannel lockFile = FileChannel.open(pool.lock(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                throw new IllegalStateException("pool " + pool.dir() + " is in use by another thinfs process");
            }
            change.run();
        }
    }
}
