package org.thinfs.fs.nbd;

import org.bouncycastle.tls.PSKTlsServer;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * NBD's TLS with pre-shared keys (TLS-PSK, as qemu-nbd's {@code tls-creds-psk} and nbdkit's {@code --tls-psk}):
 * the keys file is GnuTLS {@code psktool}'s, one {@code username:hexkey} per line; a client names itself and
 * proves it holds that user's key ({@code nbds://alice@HOST/EXPORT?tls-psk-file=FILE} in libnbd). The JDK has no
 * TLS-PSK, so the session is BouncyCastle's TLS API (TLS 1.2 PSK suites, with (EC)DHE where the client offers it).
 */
final class NbdPsk {
    private final Map<String, byte[]> keys;
    private final SecureRandom random = new SecureRandom();

    private NbdPsk(Map<String, byte[]> keys) {
        this.keys = keys;
    }

    /** Reads {@code file}; one sentence naming the line when one is not {@code username:hexkey}. */
    static NbdPsk load(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("--tls-psk " + file + ": cannot read it");
        }
        Map<String, byte[]> keys = new HashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            String user = colon < 0 ? "" : line.substring(0, colon);
            byte[] key;
            try {
                key = colon < 0 ? new byte[0] : HexFormat.of().parseHex(line.substring(colon + 1).strip());
            } catch (IllegalArgumentException e) {
                key = new byte[0];
            }
            if (user.isEmpty() || key.length == 0) {
                throw new IOException("--tls-psk " + file + ": line " + (i + 1)
                        + " is not username:hexkey (as psktool writes it)");
            }
            keys.put(user, key);
        }
        if (keys.isEmpty()) {
            throw new IOException("--tls-psk " + file + ": no username:hexkey line in it");
        }
        return new NbdPsk(keys);
    }

    /** The server side of the handshake on {@code s}'s socket, right after STARTTLS's ACK; then switches to it. */
    void upgrade(NbdSocket s) throws IOException {
        java.net.Socket plain = s.channel().socket();
        TlsServerProtocol protocol = new TlsServerProtocol(plain.getInputStream(), plain.getOutputStream());
        protocol.accept(new PSKTlsServer(new BcTlsCrypto(random), new TlsPSKIdentityManager() {
            @Override
            public byte[] getHint() {
                return null;
            }

            @Override
            public byte[] getPSK(byte[] identity) {
                byte[] k = keys.get(new String(identity, StandardCharsets.UTF_8));
                return k == null ? null : k.clone();
            }
        }));
        s.useTls(protocol.getInputStream(), protocol.getOutputStream(), protocol::close, plain);
    }
}
