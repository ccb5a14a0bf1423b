package org.thinfs.fs.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Predicate;

/** A connection to a daemon's control socket, for the commands. */
public final class ControlClient implements Closeable {
    private final SocketChannel channel;
    private final BufferedReader in;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
    }

    /** A daemon's refusal or failure, in its own sentence. */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message);
        }
    }

    /** Connects to the socket of pool directory {@code dir}; IOException when no daemon listens there. */
    public static ControlClient connect(Path dir) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(dir.resolve(ControlProtocol.SOCKET)));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new ControlClient(ch);
    }

    /** Sends a request and returns the reply; an error reply is thrown as {@link Refused}. */
    public JsonNode call(ObjectNode request) throws IOException {
        send(request);
        JsonNode reply = readReply();
        if (!reply.path("ok").asBoolean(false)) {
            throw new Refused(reply.path("error").asText("the daemon refused the request"));
        }
        return reply;
    }

    /** Starts the event stream and passes each line to {@code sink} until it returns false or the daemon stops. */
    public void events(Predicate<String> sink) throws IOException {
        call(ControlProtocol.request("events"));
        String line;
        while ((line = in.readLine()) != null) {
            if (!sink.test(line)) {
                return;
            }
        }
    }

    private void send(ObjectNode request) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((request.toString() + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    private JsonNode readReply() throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("the daemon closed the control connection without a reply");
        }
        return ControlProtocol.JSON.readTree(line);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
