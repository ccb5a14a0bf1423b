package org.thinfs.fs.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transmission phase's polling socket over a real TCP connection: bytes, sleeps, slow peers and closing. */
class NbdSocketTest {
    private ServerSocketChannel listener;
    private SocketChannel client;
    private NbdSocket server;

    @BeforeEach
    void connect() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client = SocketChannel.open(listener.getLocalAddress());
        server = new NbdSocket(listener.accept());
        server.pollForRequests(() -> 0);
    }

    @AfterEach
    void close() throws IOException {
        server.close();
        client.close();
        listener.close();
    }

    @Test
    void quietNowSaysWhetherBytesWaitWithoutTakingThemAndFalseOnceClosed() throws Exception {
        assertTrue(server.quietNow(), "nothing sent yet");
        client.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.quietNow()) {
            assertTrue(System.nanoTime() < deadline, "three bytes sent, never seen");
            Thread.sleep(1);
        }
        assertFalse(server.quietNow(), "still waiting: asking took nothing");
        ByteBuffer b = ByteBuffer.allocate(3);
        while (b.hasRemaining()) {
            server.read(b);
        }
        assertArrayEquals(new byte[] {1, 2, 3}, b.array());
        assertTrue(server.quietNow(), "all read");
        server.close();
        assertFalse(server.quietNow(), "closed: not known quiet, and no exception");
    }

    @Test
    void everyByteArrivesInOrderWhetherTheReaderPollsOrSleeps() throws Exception {
        Random rnd = new Random(7);
        for (int round = 0; round < 40; round++) {
            byte[] sent = new byte[1 + rnd.nextInt(200_000)];
            rnd.nextBytes(sent);
            long pause = round % 4 == 0 ? 120 : round % 4 == 1 ? 0 : rnd.nextInt(3); // sleeps, polls, both
            assertArrayEquals(sent, sendAndRead(sent, pause, sent.length, 0, false), "round " + round);
        }
    }

    @Test
    void aPayloadThatPausesInTheMiddleIsReadWholeAfterItsPollEndsInASleep() throws Exception {
        Random rnd = new Random(11);
        for (int round = 0; round < 6; round++) {
            byte[] sent = new byte[2 + rnd.nextInt(300_000)];
            rnd.nextBytes(sent);
            int split = 1 + rnd.nextInt(sent.length - 1);
            // 60 ms at the split, far past the longest poll: the reader sleeps mid-message
            assertArrayEquals(sent, sendAndRead(sent, 0, split, 60, true), "round " + round + ", split at " + split);
        }
    }

    /**
     * The client sends {@code sent} after {@code pauseMs}, pausing {@code splitPauseMs} after its first {@code split}
     * bytes; the server reads it whole through Wire.readFully ({@code started}: as a payload) and returns it.
     */
    private byte[] sendAndRead(byte[] sent, long pauseMs, int split, long splitPauseMs, boolean started)
            throws Exception {
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                TimeUnit.MILLISECONDS.sleep(pauseMs);
                writeAll(ByteBuffer.wrap(sent, 0, split));
                TimeUnit.MILLISECONDS.sleep(splitPauseMs);
                writeAll(ByteBuffer.wrap(sent, split, sent.length - split));
            } catch (IOException | InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        ByteBuffer got = ByteBuffer.allocateDirect(sent.length);
        Wire.readFully(server, got, started);
        writer.get(10, TimeUnit.SECONDS);
        byte[] back = new byte[sent.length];
        got.flip().get(back);
        return back;
    }

    private void writeAll(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            client.write(b);
        }
    }

    @Test
    void aReplyLargerThanTheSocketBuffersWaitsForTheClientToRead() throws Exception {
        byte[] reply = new byte[32 << 20];
        new Random(3).nextBytes(reply);
        CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
            try {
                server.writeAll(ByteBuffer.wrap(reply, 0, 1 << 20), ByteBuffer.wrap(reply, 1 << 20,
                        reply.length - (1 << 20)));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        TimeUnit.MILLISECONDS.sleep(300);
        assertFalse(writing.isDone(), "the client has read nothing yet");
        ByteBuffer got = ByteBuffer.allocate(reply.length);
        while (got.hasRemaining()) {
            client.read(got);
        }
        writing.get(10, TimeUnit.SECONDS);
        assertArrayEquals(reply, got.array());
    }

    @Test
    void theClientGoingAwayEndsTheStream() throws Exception {
        client.close();
        assertEquals(-1, server.read(ByteBuffer.allocate(28)));
    }

    @Test
    void closingTheChannelUnderASleepingReaderEndsItsRead() throws Exception {
        // The server stopping closes each client's channel (ClientThreads), not this wrapper.
        CompletableFuture<Integer> reader = readInBackground();
        TimeUnit.MILLISECONDS.sleep(200);
        assertFalse(reader.isDone());
        server.channel().close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> reader.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, e.getCause().getCause());
    }

    /** A request header's read on another thread: it finds the socket quiet and ends up asleep. */
    private CompletableFuture<Integer> readInBackground() {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return server.read(ByteBuffer.allocate(28));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void closingTheSocketWakesASleepingReaderAtOnce() throws Exception {
        CompletableFuture<Integer> reader = readInBackground();
        TimeUnit.MILLISECONDS.sleep(200);
        long t0 = System.nanoTime();
        server.close();
        assertThrows(ExecutionException.class, () -> reader.get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(900), "woken, not timed out");
    }
}
