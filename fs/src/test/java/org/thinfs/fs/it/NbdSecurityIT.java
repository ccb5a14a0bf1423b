package org.thinfs.fs.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.thinfs.core.testing.ThinTools;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NBD for other hosts: TLS with real clients (nbdinfo, nbdcopy, qemu-img with tls-creds-x509) and the refusals
 * (no client certificate, a wrong CA, plaintext); no lock-out by 600 idle, half-negotiated and garbage sockets,
 * before and after the handshake timeout; bounded memory under 50 clients that send 32 MiB writes and never read a
 * reply; --export and --read-only. One pool; each case serves it as it needs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NbdSecurityIT {
    private Path tmp;
    private MountedPool p;
    private Path certs;
    private Path client;
    private Path noCert;
    private Path wrongCa;
    private int port;

    @BeforeAll
    void setUp() throws Exception {
        tmp = Files.createTempDirectory("nbd-security");
        p = MountedPool.created(tmp, "1G");
        p.mount();
        p.sh("truncate -s 64M vm1 vm2 other && mkdir snapshots/s1").ok();
        p.unmount();
        certs = tmp.resolve("certs");
        client = tmp.resolve("client");
        noCert = tmp.resolve("nocert");
        wrongCa = tmp.resolve("wrongca");
        // A CA, a server certificate for 127.0.0.1, a client certificate; and a second CA nobody trusts.
        Sh.bash(tmp, String.join(" && ",
                "mkdir -p certs client nocert wrongca",
                "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out certs/ca-cert.pem -days 30 "
                        + "-subj /CN=test-ca 2>/dev/null",
                "openssl req -newkey rsa:2048 -nodes -keyout certs/server-key.pem -out s.csr -subj /CN=localhost "
                        + "2>/dev/null",
                "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > s.ext",
                "openssl x509 -req -in s.csr -CA certs/ca-cert.pem -CAkey ca-key.pem -CAcreateserial "
                        + "-out certs/server-cert.pem -days 30 -extfile s.ext 2>/dev/null",
                "openssl req -newkey rsa:2048 -nodes -keyout client/client-key.pem -out c.csr -subj /CN=client "
                        + "2>/dev/null",
                "printf 'extendedKeyUsage=clientAuth\\n' > c.ext",
                "openssl x509 -req -in c.csr -CA certs/ca-cert.pem -CAkey ca-key.pem -CAcreateserial "
                        + "-out client/client-cert.pem -days 30 -extfile c.ext 2>/dev/null",
                "cp certs/ca-cert.pem client/ && cp certs/ca-cert.pem nocert/",
                "openssl req -x509 -newkey rsa:2048 -nodes -keyout wrongca/k.pem -out wrongca/ca-cert.pem -days 30 "
                        + "-subj /CN=other-ca 2>/dev/null",
                "cp client/client-cert.pem client/client-key.pem wrongca/")).ok();
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
    }

    @AfterAll
    void tearDown() throws Exception {
        p.thinfs("umount", p.pool.toString());
        assertEquals(0, ThinTools.check(p.pool.resolve("metadata")).exitCode());
        Sh.run(Path.of("/"), List.of("rm", "-rf", tmp.toString()));
    }

    private void serve(String... extra) throws Exception {
        List<String> a = new ArrayList<>(List.of("serve", p.pool.toString(), "--nbd", "127.0.0.1:" + port));
        a.addAll(List.of(extra));
        p.thinfs(a.toArray(new String[0])).ok();
    }

    private void stop() throws Exception {
        p.thinfs("umount", p.pool.toString()).ok();
    }

    private String tls(String export, Path dir) {
        return "nbds://127.0.0.1:" + port + "/" + export + "?tls-certificates=" + dir;
    }

    @Test
    void realClientsOverTlsAndEveryRefusalLeavesTheDataAlone() throws Exception {
        serve("--tls-certificates", certs.toString(), "--tls-verify-peer");
        try {
            Sh.bash(tmp, "head -c 8M /dev/urandom > img && nbdcopy --flush img '" + tls("vm1", client) + "'").ok();
            Sh.bash(tmp, "cmp img <(nbdcopy '" + tls("vm1", client) + "' - | head -c 8M)").ok();
            assertTrue(Sh.run(tmp, List.of("nbdinfo", tls("vm1", client))).ok().out().contains("with TLS"));
            // qemu-img as qemu users configure it.
            String creds = "tls-creds-x509,id=tls0,dir=" + client + ",endpoint=client";
            String nbd = "driver=nbd,host=127.0.0.1,port=" + port + ",export=vm2,tls-creds=tls0";
            Sh.bash(tmp, "qemu-img create -f qcow2 src.qcow2 64M >/dev/null && qemu-io -f qcow2 "
                    + "-c 'write -P 0x5a 1M 2M' src.qcow2 >/dev/null").ok();
            Sh.bash(tmp, "qemu-img convert -n -f qcow2 --object " + creds + " --target-image-opts src.qcow2 '"
                    + nbd + "'").ok();
            Sh.bash(tmp, "qemu-img compare --object " + creds + " --image-opts driver=qcow2,file.filename=src.qcow2 '" + nbd
                    + "'")
                    .ok();
            // Refused: no client certificate, a CA that did not sign the server's, plaintext.
            for (Path bad : List.of(noCert, wrongCa)) {
                Sh.Result r = Sh.run(tmp, List.of("nbdcopy", "img", tls("vm2", bad)));
                assertNotEquals(0, r.code(), bad + ": " + r.out());
            }
            Sh.Result plain = Sh.run(tmp, List.of("nbdcopy", "img", "nbd://127.0.0.1:" + port + "/vm2"));
            assertNotEquals(0, plain.code(), plain.out());
            Sh.Result list = Sh.run(tmp, List.of("nbdinfo", "--list", "nbd://127.0.0.1:" + port));
            assertNotEquals(0, list.code(), "a plaintext client must not even list the exports: " + list.out());
            Sh.bash(tmp, "qemu-img compare --object " + creds + " --image-opts driver=qcow2,file.filename=src.qcow2 '" + nbd
                    + "'")
                    .ok();
            Sh.bash(tmp, "cmp img <(nbdcopy '" + tls("vm1", client) + "' - | head -c 8M)").ok();
            assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("TLS required"));
        } finally {
            stop();
        }
    }

    @Test
    void preSharedKeysAsLibnbdAndQemuUseThem() throws Exception {
        Sh.bash(tmp, "echo \"alice:$(openssl rand -hex 32)\" > keys.psk && echo \"alice:$(openssl rand -hex 32)\" "
                + "> wrong.psk && echo \"bob:$(openssl rand -hex 32)\" > bob.psk").ok();
        serve("--tls-psk", tmp.resolve("keys.psk").toString());
        try {
            String alice = "nbds://alice@127.0.0.1:" + port + "/vm2?tls-psk-file=" + tmp.resolve("keys.psk");
            Sh.bash(tmp, "head -c 8M /dev/urandom > psk.img && nbdcopy --flush psk.img '" + alice + "'").ok();
            Sh.bash(tmp, "cmp psk.img <(nbdcopy '" + alice + "' - | head -c 8M)").ok();
            assertTrue(Sh.run(tmp, List.of("nbdinfo", alice)).ok().out().contains("with TLS"));
            // qemu's own PSK credentials (a directory with keys.psk; the user is qemu's 'username').
            Sh.bash(tmp, "mkdir -p qpsk && cp keys.psk qpsk/").ok();
            String creds = "tls-creds-psk,id=tls0,dir=" + tmp.resolve("qpsk") + ",username=alice,endpoint=client";
            Sh.bash(tmp, "qemu-img compare --object " + creds + " --image-opts driver=raw,file.filename=psk.img "
                    + "'driver=raw,file.driver=nbd,file.host=127.0.0.1,file.port=" + port
                    + ",file.export=vm2,file.tls-creds=tls0' 2>&1 | grep -q 'Images are identical'").ok();
            // Refused: a wrong key, an unknown user, plaintext; the data stays.
            for (String bad : List.of("alice@127.0.0.1:" + port + "/vm2?tls-psk-file=" + tmp.resolve("wrong.psk"),
                    "bob@127.0.0.1:" + port + "/vm2?tls-psk-file=" + tmp.resolve("bob.psk"))) {
                Sh.Result r = Sh.run(tmp, List.of("nbdcopy", "img", "nbds://" + bad));
                assertNotEquals(0, r.code(), bad + ": " + r.out());
            }
            Sh.Result plain = Sh.run(tmp, List.of("nbdcopy", "img", "nbd://127.0.0.1:" + port + "/vm2"));
            assertNotEquals(0, plain.code(), plain.out());
            Sh.bash(tmp, "cmp psk.img <(nbdcopy '" + alice + "' - | head -c 8M)").ok();
            assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("TLS required with pre-shared keys"));
        } finally {
            stop();
        }
        Sh.Result both = p.thinfs("serve", p.pool.toString(), "--nbd", "127.0.0.1:" + port, "--tls-psk",
                tmp.resolve("keys.psk").toString(), "--tls-certificates", certs.toString());
        assertNotEquals(0, both.code());
        assertTrue(both.out().contains("not both"), both.out());
        Sh.bash(tmp, "echo 'alice:not-hex' > broken.psk").ok();
        Sh.Result broken = p.thinfs("serve", p.pool.toString(), "--nbd", "127.0.0.1:" + port, "--tls-psk",
                tmp.resolve("broken.psk").toString());
        assertNotEquals(0, broken.code());
        assertTrue(broken.out().contains("line 1 is not username:hexkey"), broken.out());
    }

    @Test
    void plaintextOnAnAddressOtherHostsReachNeedsTlsOffSaidOutLoud() throws Exception {
        Sh.Result r = p.thinfs("serve", p.pool.toString(), "--nbd", "0.0.0.0:" + port);
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains("--tls off"), r.out());
        assertFalse(r.out().contains("Exception"), r.out());
        Sh.Result missing = p.thinfs("serve", p.pool.toString(), "--nbd", "127.0.0.1:" + port, "--tls-certificates",
                tmp.resolve("nope").toString());
        assertNotEquals(0, missing.code());
        assertTrue(missing.out().contains("ca-cert.pem"), missing.out());
    }

    @Test
    void exportsAndReadOnlyLimitWhatClientsSeeAndDo() throws Exception {
        serve("--export", "vm*", "--export", "snapshots/s1/vm1", "--read-only");
        try {
            String list = Sh.run(tmp, List.of("nbdinfo", "--list", "--json", "nbd://127.0.0.1:" + port)).ok().out();
            assertTrue(list.contains("\"vm1\"") && list.contains("\"vm2\"") && list.contains("snapshots/s1/vm1"),
                    list);
            assertFalse(list.contains("\"other\"") || list.contains("snapshots/s1/vm2"), list);
            Sh.Result hidden = Sh.run(tmp, List.of("nbdinfo", "nbd://127.0.0.1:" + port + "/other"));
            assertNotEquals(0, hidden.code(), hidden.out());
            Sh.Result write = Sh.bash(tmp, "qemu-io -f raw -c 'write -P 1 0 64k' 'nbd://127.0.0.1:" + port + "/vm1'");
            assertTrue(write.out().contains("ermission") || write.out().contains("read-only")
                    || write.out().contains("read only"), write.out());
            assertTrue(p.thinfs("status", p.pool.toString()).ok().out().contains("exports vm* snapshots/s1/vm1, "
                    + "read-only"));
        } finally {
            stop();
        }
    }

    @Test
    void noNumberOfIdleHalfOpenOrGarbageSocketsLocksARealClientOut() throws Exception {
        serve("--handshake-timeout", "3s");
        List<Socket> idle = new ArrayList<>();
        List<Socket> all = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                Socket s = connect();
                idle.add(s);
                all.add(s);
            }
            for (int i = 0; i < 200; i++) {                      // stop after the client flags
                Socket s = connect();
                s.getInputStream().readNBytes(18);
                s.getOutputStream().write(new byte[] {0, 0, 0, 3});
                all.add(s);
            }
            for (int i = 0; i < 200; i++) {
                Socket s = connect();
                s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n garbage garbage".getBytes());
                all.add(s);
            }
            Thread.sleep(1000);
            realClientsSucceedAtOnce("beside 600 bad sockets");
            Thread.sleep(4000);                                   // past the handshake timeout
            realClientsSucceedAtOnce("after the handshake timeout");
            int open = 0;
            for (Socket s : idle) {
                if (stillOpen(s)) {
                    open++;
                }
            }
            assertEquals(0, open, "idle sockets still open after the handshake timeout");
        } finally {
            for (Socket s : all) {
                s.close();
            }
            stop();
        }
    }

    private void realClientsSucceedAtOnce(String when) throws Exception {
        Sh.run(tmp, List.of("nbdinfo", "nbd://127.0.0.1:" + port + "/vm1")).ok();
        Sh.bash(tmp, "head -c 4M /dev/urandom > small && nbdcopy small nbd://127.0.0.1:" + port + "/vm2 && cmp small "
                + "<(nbdcopy nbd://127.0.0.1:" + port + "/vm2 - | head -c 4M)").ok();
    }

    private Socket connect() throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(200);
        return s;
    }

    /** Whether the server still holds {@code s} open: reading (past the greeting) ends in a timeout, not EOF. */
    private static boolean stillOpen(Socket s) {
        try {
            InputStream in = s.getInputStream();
            byte[] b = new byte[256];
            while (true) {
                if (in.read(b) < 0) {
                    return false;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void fiftyClientsSendingLargeWritesWithoutReadingRepliesKeepMemoryBounded() throws Exception {
        serve();
        List<Socket> clients = new ArrayList<>();
        try {
            long pid = p.daemonPid();
            long before = rssKiB(pid);
            List<Thread> senders = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                Socket s = connect();
                s.setSoTimeout(0);
                clients.add(s);
                Thread t = new Thread(() -> {
                    try {
                        OutputStream out = s.getOutputStream();
                        InputStream in = s.getInputStream();
                        in.readNBytes(18);
                        out.write(new byte[] {0, 0, 0, 3});          // fixed newstyle, no zeroes
                        byte[] name = "other".getBytes();
                        ByteBuffer opt = ByteBuffer.allocate(16 + name.length);
                        opt.putLong(0x49484156454F5054L).putInt(1).putInt(name.length).put(name);
                        out.write(opt.array());
                        in.readNBytes(10);
                        byte[] payload = new byte[32 << 20];
                        for (int w = 0; w < 4; w++) {             // 128 MiB each, replies never read
                            ByteBuffer h = ByteBuffer.allocate(28);
                            h.putInt(0x25609513).putShort((short) 0).putShort((short) 1).putLong(w)
                                    .putLong(0).putInt(payload.length);
                            out.write(h.array());
                            out.write(payload);
                        }
                    } catch (java.io.IOException ignored) {
                        // the server may refuse; what matters is its memory and the next client
                    }
                });
                t.setDaemon(true);
                senders.add(t);
                t.start();
            }
            Thread.sleep(8000);
            long during = rssKiB(pid);
            realClientsSucceedAtOnce("beside 50 writers that never read");
            assertTrue(during - before < 768 * 1024, "daemon RSS grew from " + before + " to " + during + " KiB");
        } finally {
            for (Socket s : clients) {
                s.close();
            }
            stop();
        }
    }

    private static long rssKiB(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS for " + pid);
    }
}
