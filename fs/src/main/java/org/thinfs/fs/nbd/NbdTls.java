package org.thinfs.fs.nbd;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * NBD's TLS (STARTTLS, as qemu-nbd and nbdkit do it) with X.509 certificates in qemu's layout: a directory with
 * {@code ca-cert.pem}, {@code server-cert.pem} and {@code server-key.pem}. The key is read by BouncyCastle's PEM
 * parser (PKCS#1, PKCS#8 or EC, as openssl and certtool write them); the session is the JDK's (TLS 1.2 and 1.3).
 * With {@code verifyPeer}, clients must present a certificate signed by the CA.
 *
 * <p>Or, made by {@link #psk}, with pre-shared keys instead of certificates ({@link NbdPsk}).
 *
 * @param required  every option but STARTTLS is refused with NBD_REP_ERR_TLS_REQD until TLS is up
 * @param psk       the keys of TLS-PSK, or null for certificates
 */
public record NbdTls(SSLContext context, boolean required, boolean verifyPeer, NbdPsk psk) {

    /** TLS-PSK with the keys of {@code file} (psktool's username:hexkey lines). */
    public static NbdTls psk(Path file, boolean required) throws IOException {
        return new NbdTls(null, required, false, NbdPsk.load(file));
    }

    /** Loads {@code dir}'s certificates; one sentence naming the file when one is missing or unreadable. */
    public static NbdTls load(Path dir, boolean required, boolean verifyPeer) throws IOException {
        Path ca = dir.resolve("ca-cert.pem");
        Path cert = dir.resolve("server-cert.pem");
        Path key = dir.resolve("server-key.pem");
        for (Path f : List.of(ca, cert, key)) {
            if (!Files.isReadable(f)) {
                throw new IOException("--tls-certificates " + dir + ": cannot read " + f.getFileName()
                        + " (the directory needs ca-cert.pem, server-cert.pem and server-key.pem)");
            }
        }
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<Certificate> chain;
            try (var in = Files.newInputStream(cert)) {
                chain = new ArrayList<>(cf.generateCertificates(in));
            }
            List<Certificate> cas;
            try (var in = Files.newInputStream(ca)) {
                cas = new ArrayList<>(cf.generateCertificates(in));
            }
            if (chain.isEmpty() || cas.isEmpty()) {
                throw new IOException("--tls-certificates " + dir + ": no certificate in "
                        + (chain.isEmpty() ? cert : ca).getFileName());
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] none = new char[0];
            ks.setKeyEntry("server", privateKey(key), none, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                trust.setCertificateEntry("ca" + i, cas.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return new NbdTls(ctx, required, verifyPeer, null);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException("--tls-certificates " + dir + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                return conv.getKeyPair(kp).getPrivate();
            }
            if (o instanceof PrivateKeyInfo info) {
                return conv.getPrivateKey(info);
            }
            throw new IOException("server-key.pem holds no unencrypted private key");
        }
    }

    /**
     * Runs the server side of the TLS handshake on {@code s}'s socket (right after STARTTLS's ACK) and switches
     * {@code s} to the session. A failed handshake (a wrong CA, no client certificate under verifyPeer) throws.
     */
    void upgrade(NbdSocket s) throws IOException {
        if (psk != null) {
            psk.upgrade(s);
            return;
        }
        java.net.Socket plain = s.channel().socket();
        SSLSocket session = (SSLSocket) context.getSocketFactory().createSocket(plain, null, true);
        session.setUseClientMode(false);
        session.setNeedClientAuth(verifyPeer);
        session.startHandshake();
        s.useTls(session);
    }
}
