package org.thinfs.fs.cli;

import org.thinfs.fs.nbd.NbdConfig;
import org.thinfs.fs.nbd.NbdServer;
import org.thinfs.fs.nbd.NbdTls;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The NBD server's options, shared by {@code mount --nbd} and {@code serve}: TLS, who sees which exports, and the
 * admission limits that keep idle or hostile clients from locking others out. Checked here, before any daemon
 * starts; {@link #args} gives them back for the daemonized child.
 */
final class NbdOptions {
    @Option(names = "--tls", paramLabel = "require|allow|off",
            description = "STARTTLS: require it (the default with --tls-certificates), allow it, or off. An NBD "
                    + "address other than loopback or a Unix socket needs TLS unless --tls off is given.")
    String tls;

    @Option(names = "--tls-certificates", paramLabel = "DIR",
            description = "ca-cert.pem, server-cert.pem and server-key.pem, as qemu-nbd and nbdkit take them.")
    Path tlsCertificates;

    @Option(names = "--tls-verify-peer", description = "Clients must present a certificate signed by the CA.")
    boolean tlsVerifyPeer;

    @Option(names = "--tls-psk", paramLabel = "FILE",
            description = "TLS with pre-shared keys instead of certificates: FILE holds psktool's username:hexkey "
                    + "lines; a libnbd client names its user in the URI and adds tls-psk-file.")
    Path tlsPsk;

    @Option(names = "--export", paramLabel = "GLOB",
            description = "Only these exports are listed and opened (may be repeated; snapshots/** for snapshots).")
    List<String> exports = new ArrayList<>();

    @Option(names = "--max-handshakes", paramLabel = "N", defaultValue = "32",
            description = "Connections still negotiating at once; a new one evicts the oldest (default: "
                    + "${DEFAULT-VALUE}).")
    int maxHandshakes;

    @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = Durations.class,
            description = "Drop a connection that has not picked an export by then (default: ${DEFAULT-VALUE}).")
    Duration handshakeTimeout;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "100",
            description = "Connections serving an export at once; the next is told so (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    /** The server's configuration for {@code addresses}; one sentence for what cannot work. */
    NbdConfig config(List<String> addresses, boolean readOnly) throws IOException {
        boolean credentials = tlsCertificates != null || tlsPsk != null;
        String mode = tls == null ? (credentials ? "require" : "off") : tls;
        if (!List.of("require", "allow", "off").contains(mode)) {
            throw new Main.UsageError("--tls takes require, allow or off, not '" + tls + "'");
        }
        if (tlsCertificates != null && tlsPsk != null) {
            throw new Main.UsageError("give --tls-certificates DIR or --tls-psk FILE, not both");
        }
        if (!mode.equals("off") && !credentials) {
            throw new Main.UsageError("--tls " + mode + " needs --tls-certificates DIR or --tls-psk FILE");
        }
        if (tlsVerifyPeer && (mode.equals("off") || tlsCertificates == null)) {
            throw new Main.UsageError("--tls-verify-peer needs TLS with certificates (--tls-certificates DIR)");
        }
        if (tls == null && mode.equals("off")) {
            for (String a : addresses) {
                if (NbdServer.parse(a) instanceof InetSocketAddress in && !in.getAddress().isLoopbackAddress()) {
                    throw new Main.UsageError("--nbd " + a + " is reachable from other hosts and would carry every "
                            + "byte in the clear: give --tls-certificates DIR (or --tls-psk FILE), or --tls off to "
                            + "do it anyway");
                }
            }
        }
        NbdTls t = mode.equals("off") ? null : tlsPsk != null ? NbdTls.psk(tlsPsk, mode.equals("require"))
                : NbdTls.load(tlsCertificates, mode.equals("require"), tlsVerifyPeer);
        try {
            return new NbdConfig(maxHandshakes, handshakeTimeout, maxConnections, exports, readOnly, t);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /** These options as arguments, for the daemonized child. */
    List<String> args() {
        List<String> a = new ArrayList<>();
        if (tls != null) {
            a.addAll(List.of("--tls", tls));
        }
        if (tlsCertificates != null) {
            a.addAll(List.of("--tls-certificates", tlsCertificates.toAbsolutePath().toString()));
        }
        if (tlsVerifyPeer) {
            a.add("--tls-verify-peer");
        }
        if (tlsPsk != null) {
            a.addAll(List.of("--tls-psk", tlsPsk.toAbsolutePath().toString()));
        }
        for (String e : exports) {
            a.addAll(List.of("--export", e));
        }
        a.addAll(List.of("--max-handshakes", Integer.toString(maxHandshakes), "--handshake-timeout",
                handshakeTimeout.toMillis() + "ms", "--max-connections", Integer.toString(maxConnections)));
        return a;
    }
}
