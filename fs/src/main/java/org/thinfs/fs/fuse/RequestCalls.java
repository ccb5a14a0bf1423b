package org.thinfs.fs.fuse;

import org.thinfs.fs.metrics.RequestStats;

import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The one way out of every request {@link ThinFuse} answers: a failure becomes a negative errno ({@link Errno}, which
 * also logs what a user must see), and each answer is counted in the daemon's metrics.
 */
final class RequestCalls {
    private final OpenFiles files;
    private volatile RequestStats stats = RequestStats.NONE;

    RequestCalls(OpenFiles files) {
        this.files = files;
    }

    void setStats(RequestStats stats) {
        this.stats = stats;
    }

    /** Runs a request on {@code path} whose result is 0 or a count that is not bytes. */
    int call(String op, String path, IntSupplier body) {
        return call(op, path, false, body);
    }

    /** {@code moves}: the result is a byte count (read, write), counted as bytes moved. */
    int call(String op, String path, boolean moves, IntSupplier body) {
        int r;
        try {
            r = body.getAsInt();
        } catch (RuntimeException | Error e) {
            r = Errno.of(op, path, e);
        }
        stats.done(op, moves && r > 0 ? r : 0, r < 0);
        return r;
    }

    /**
     * As {@link #call(String, String, boolean, IntSupplier)} for a request served by its handle alone (no path): a
     * failure names the path the handle was opened by.
     */
    int call(String op, long fh, boolean moves, IntSupplier body) {
        int r;
        try {
            r = body.getAsInt();
        } catch (RuntimeException | Error e) {
            r = Errno.of(op, files.describe(fh), e);
        }
        stats.done(op, moves && r > 0 ? r : 0, r < 0);
        return r;
    }

    /** A request with no result but success or failure. */
    int run(String op, String path, Runnable body) {
        return call(op, path, () -> {
            body.run();
            return 0;
        });
    }

    /**
     * A write of {@code size} bytes spliced into the data file: {@code body} says whether it was made; a declined
     * write ({@link RawRequests#DECLINED}) is not counted, its retry from memory is.
     */
    int splicedWrite(long fh, int size, BooleanSupplier body) {
        int r;
        try {
            if (!body.getAsBoolean()) {
                return RawRequests.DECLINED;
            }
            r = size;
            stats.spliced(size);
        } catch (RuntimeException | Error e) {
            r = Errno.of("write", files.describe(fh), e);
        }
        stats.done("write", r > 0 ? r : 0, r < 0);
        return r;
    }
}
