package org.thinfs.fs.nbd;

import java.time.Duration;
import java.util.List;

/**
 * How an NBD server admits clients and what it shows them.
 *
 * @param maxHandshakes    connections still negotiating at once; a new one past it evicts the oldest unfinished
 * @param handshakeTimeout a negotiation not finished in this time is dropped
 * @param maxConnections   connections past negotiation; the one past the cap gets NBD_REP_ERR_POLICY
 * @param exports          globs of the export names listed and opened (empty: every volume and snapshot)
 * @param readOnly         every export read-only
 * @param tls              the TLS setup, or null for none (STARTTLS answers ERR_UNSUP)
 */
public record NbdConfig(int maxHandshakes, Duration handshakeTimeout, int maxConnections, List<String> exports,
                        boolean readOnly, NbdTls tls) {
    public static final NbdConfig DEFAULTS = new NbdConfig(32, Duration.ofSeconds(10), 100, List.of(), false, null);

    public NbdConfig {
        if (maxHandshakes < 1 || maxConnections < 1) {
            throw new IllegalArgumentException("--max-handshakes and --max-connections must be at least 1");
        }
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("--handshake-timeout must be positive");
        }
        exports = List.copyOf(exports);
    }

    /** How status shows it, after the address: "" for the defaults. */
    String describe() {
        StringBuilder b = new StringBuilder();
        if (!exports.isEmpty()) {
            b.append(", exports ").append(String.join(" ", exports));
        }
        if (readOnly) {
            b.append(", read-only");
        }
        if (tls != null) {
            b.append(", TLS ").append(tls.required() ? "required" : "allowed");
            if (tls.verifyPeer()) {
                b.append(" with client certificates");
            }
            if (tls.psk() != null) {
                b.append(" with pre-shared keys");
            }
        }
        return b.toString();
    }
}
