package org.thinfs.fs.cli;

import org.thinfs.fs.model.Catalog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Names of thin devices from a pool's catalog: {@code vm1}, {@code snapshots/SET/vm1}; also bare ids. */
final class DeviceNames {
    final Map<String, Catalog.Entry> byName = new HashMap<>();

    static DeviceNames of(Path target, long transactionId) throws IOException {
        DeviceNames n = new DeviceNames();
        if (Files.isDirectory(target)) {
            Catalog.Document doc = Catalog.read(target, transactionId);
            doc.volumes.forEach(n.byName::put);
            doc.snapshots.forEach((s, set) -> set.volumes.forEach((v, e) -> n.byName.put("snapshots/" + s + "/" + v,
                    e)));
        }
        return n;
    }

    /** The name of each named device, for listings. */
    Map<Long, String> byId() {
        Map<Long, String> out = new HashMap<>();
        byName.forEach((n, e) -> out.put(e.id, n));
        return out;
    }

    /** The thin device id named {@code name}. */
    long id(String name) {
        Catalog.Entry e = byName.get(name);
        if (e != null) {
            return e.id;
        }
        String s = name.startsWith("dev-") ? name.substring(4) : name;
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException ex) {
            throw new Main.UsageError("no volume or device named '" + name + "'");
        }
    }
}
