package org.thinfs.fs.cli;

import org.thinfs.core.format.SpaceMapRoot;
import org.thinfs.core.io.BlockDevice;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A progress bar on stderr for tools that read a whole metadata device: it counts block reads against the blocks
 * the metadata space map says are in use. Only drawn on a terminal.
 */
final class ProgressBar implements BlockDevice {
    private final BlockDevice inner;
    private final AtomicLong reads = new AtomicLong();
    private final long expected;
    private final Thread painter;
    private final PrintStream out = System.err;
    private volatile boolean done;

    private ProgressBar(BlockDevice inner, String label) throws IOException {
        this.inner = inner;
        ByteBuffer sb = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        inner.read(0, sb);
        this.expected = Math.max(1, SpaceMapRoot.decode(sb, 192).nrAllocated());
        this.painter = new Thread(() -> {
            while (!done) {
                paint(label);
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "progress");
        painter.setDaemon(true);
        painter.start();
    }

    /** Wraps {@code device} with a bar when stderr is a terminal and the metadata is large enough to wait for. */
    static BlockDevice wrap(BlockDevice device, String label, boolean quiet) throws IOException {
        if (quiet || System.console() == null || device.nrBlocks() < 10_000) {
            return device;
        }
        return new ProgressBar(device, label);
    }

    private void paint(String label) {
        long n = Math.min(reads.get(), expected);
        int pct = (int) (n * 100 / expected);
        int width = 40;
        int fill = pct * width / 100;
        out.print("\r" + label + " [" + "#".repeat(fill) + " ".repeat(width - fill) + "] " + pct + "% ");
        out.flush();
    }

    @Override
    public long nrBlocks() throws IOException {
        return inner.nrBlocks();
    }

    @Override
    public void read(long nr, ByteBuffer dst) throws IOException {
        reads.incrementAndGet();
        inner.read(nr, dst);
    }

    @Override
    public void write(long nr, ByteBuffer src) throws IOException {
        inner.write(nr, src);
    }

    @Override
    public void flush() throws IOException {
        inner.flush();
    }

    @Override
    public void close() throws IOException {
        done = true;
        painter.interrupt();
        out.print("\r" + " ".repeat(60) + "\r");
        out.flush();
        inner.close();
    }
}
