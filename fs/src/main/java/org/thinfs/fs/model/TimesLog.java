package org.thinfs.fs.model;

import com.fasterxml.jackson.core.type.TypeReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The volumes' times made durable by an {@code fsync} that changed nothing else, without a metadata commit (and by
 * the periodic commit when only times have changed for 30 s: CatalogCommit#saveTimes).
 *
 * <p>Why: a full {@code fsync} must make a file's times durable (POSIX; and a backup tool that trusts mtime would skip
 * a volume whose data changed if a crash rolled its mtime back). Written through a commit, that costs a catalog slot,
 * metadata blocks and the superblock, two flushes one after the other. A loop device flushes with a full fsync every
 * time ext4 commits its journal or mkfs finishes, and mostly over blocks already mapped (writes in place), where
 * nothing but the times changed: the commit was most of such an fsync (1.2 ms of mkfs's last, against 0.15 ms for
 * the raw file's). Here the times go to a small file of their own, flushed beside the data.
 *
 * <p>Format: two slots, {@code times.0.json} and {@code times.1.json}, written in turn. Each holds a header line
 * {@code thinfs-times 1 CRC LENGTH}, then LENGTH bytes of JSON ({@code {"base":N,"seq":S,"volumes":{name:
 * {"id","atimeNs","mtimeNs","ctimeNs"}}}}; CRC is their CRC32C in hex), then spaces. {@code base} is the committed
 * metadata transaction the times apply on top of; {@code seq} grows with every write, across both slots.
 *
 * <p>Invariants. A log is written only while its base is the committed transaction, under the namespace monitor
 * (so no commit runs meanwhile). Reading the catalog of transaction T takes, of the slots whose CRC checks and whose
 * base is T, the one with the highest seq, and applies a volume's times only where name and device id both match an
 * entry of T's catalog. So: a commit supersedes every log (the next transaction's catalog holds the same times, and
 * the logs' base is then old); a write torn by a crash fails its CRC and the other slot, the previous fsync's, is
 * still whole; a log can change times only, never names, devices or sizes.
 */
final class TimesLog {
    private static final Logger LOG = LoggerFactory.getLogger(TimesLog.class);
    private static final String MAGIC = "thinfs-times 1 ";
    private static final int GRAIN = 4096;

    /** One volume's times in a log. */
    static final class Times {
        public long id;
        public long atimeNs;
        public long mtimeNs;
        public long ctimeNs;
    }

    /** A log slot's JSON. */
    static final class Body {
        public long base;
        public long seq;
        public Map<String, Times> volumes = new LinkedHashMap<>();
    }

    private final Path dir;
    /** Where the slots are written (held open). */
    private final SlotFiles files;
    /** The seq of the last log written or found; the next is one more. Guarded by the namespace monitor. */
    private long seq;

    private TimesLog(SlotFiles files, long seq) {
        this.dir = files.dir();
        this.files = files;
        this.seq = seq;
    }

    /** The log of the pool directory of {@code files}, continuing after the highest seq either slot holds. */
    static TimesLog open(SlotFiles files) {
        Path dir = files.dir();
        long highest = 0;
        for (int slot = 0; slot < 2; slot++) {
            Body b = readSlot(dir, slot);
            if (b != null) {
                highest = Math.max(highest, b.seq);
            }
        }
        return new TimesLog(files, highest);
    }

    /**
     * Makes both slot files exist with one block each (spaces: no log), durably, so that no fsync pays for a new
     * file: the first log written into a new file cost 0.8 ms of ext4 allocation and journal, against 0.1 ms for
     * an overwrite. Called when a pool is opened for writing.
     */
    void preallocate() throws IOException {
        boolean created = false;
        for (int slot = 0; slot < 2; slot++) {
            Path target = slot(dir, slot);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS)) {
                Catalog.writePadded(ch, GRAIN);
                ch.force(true);
            }
            created = true;
        }
        if (created) {
            Catalog.forceDirectory(dir);
        }
    }

    static Path slot(Path dir, int slot) {
        return dir.resolve("times." + slot + ".json");
    }

    /**
     * Writes the times of every volume of {@code doc} as a log on top of committed transaction {@code base}, and
     * makes it durable. The caller holds the namespace monitor and has checked that nothing but times changed since
     * {@code base} was committed.
     */
    void write(Catalog.Document doc, long base) throws IOException {
        Body body = new Body();
        body.base = base;
        body.seq = seq + 1;
        for (Map.Entry<String, Catalog.Entry> v : doc.volumes.entrySet()) {
            Catalog.Entry e = v.getValue();
            Times t = new Times();
            t.id = e.id;
            t.atimeNs = e.atimeNs;
            t.mtimeNs = e.mtimeNs;
            t.ctimeNs = e.ctimeNs;
            body.volumes.put(v.getKey(), t);
        }
        byte[] json = Catalog.JSON.writeValueAsBytes(body);
        CRC32C crc = new CRC32C();
        crc.update(json);
        byte[] header = (MAGIC + Long.toHexString(crc.getValue()) + " " + json.length + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        Path target = slot(dir, (int) (body.seq & 1));
        SlotFiles.Slot slot = files.open(target);
        FileChannel ch = slot.channel();
        long needed = ((header.length + json.length + 1L + GRAIN - 1) / GRAIN) * GRAIN;
        // never shrinks: no truncate, no block freed and taken again
        Catalog.writePadded(ch, Math.max(needed, ch.size()), header, json);
        ch.force(false);
        if (slot.created()) {
            Catalog.forceDirectory(dir);
        }
        seq = body.seq;
    }

    /**
     * Applies to {@code doc} (the catalog of committed transaction {@code doc.transactionId}) the newest whole log
     * on top of that transaction, if any: times only, of volumes whose name and device id both match.
     */
    static void applyTo(Path dir, Catalog.Document doc) {
        Body newest = null;
        for (int slot = 0; slot < 2; slot++) {
            Body b = readSlot(dir, slot);
            if (b != null && b.base == doc.transactionId && (newest == null || b.seq > newest.seq)) {
                newest = b;
            }
        }
        if (newest == null) {
            return;
        }
        for (Map.Entry<String, Times> v : newest.volumes.entrySet()) {
            Catalog.Entry e = doc.volumes.get(v.getKey());
            Times t = v.getValue();
            if (e != null && t != null && e.id == t.id) {
                e.atimeNs = t.atimeNs;
                e.mtimeNs = t.mtimeNs;
                e.ctimeNs = t.ctimeNs;
            }
        }
    }

    /** A slot's body when its header and CRC check; null when it is absent, torn or not a log. */
    private static Body readSlot(Path dir, int slot) {
        Path file = slot(dir, slot);
        byte[] all;
        try {
            if (Files.isSymbolicLink(file)) {
                return null;
            }
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            LOG.warn("cannot read {} ({}); the times it may hold are not applied", file, e.getMessage());
            return null;
        }
        int eol = indexOf(all, (byte) '\n');
        String header = eol < 0 ? "" : new String(all, 0, eol, StandardCharsets.US_ASCII);
        if (!header.startsWith(MAGIC)) {
            return null;
        }
        String[] f = header.substring(MAGIC.length()).split(" ");
        if (f.length != 2) {
            return null;
        }
        try {
            long crcWanted = Long.parseLong(f[0], 16);
            int length = Integer.parseInt(f[1]);
            if (length < 0 || length > all.length - eol - 1) {
                return null;
            }
            CRC32C crc = new CRC32C();
            crc.update(all, eol + 1, length);
            if (crc.getValue() != crcWanted) {
                return null;                              // torn by a crash: the other slot is the last whole one
            }
            Body b = Catalog.JSON.readValue(all, eol + 1, length, new TypeReference<Body>() { });
            return b == null || b.volumes == null ? null : b;
        } catch (NumberFormatException | IOException e) {   // IOException: Jackson's, on JSON that is not a Body
            return null;
        }
    }

    private static int indexOf(byte[] a, byte b) {
        for (int i = 0; i < Math.min(a.length, 128); i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
