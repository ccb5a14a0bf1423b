package org.thinfs.fs.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.TreeMap;

/**
 * Names, virtual sizes and snapshot sets: what the dm-thin format does not store. Kept as JSON in two slots in the
 * pool directory, {@code catalog.0.json} and {@code catalog.1.json}, each stamped with the metadata transaction id it
 * belongs to. A commit writes the catalog for transaction N+1 into the slot not holding N and makes it durable before
 * it writes the superblock of transaction N+1; opening picks the slot whose stamp equals the metadata's id. A crash at
 * any point therefore leaves a catalog that matches the metadata exactly. See docs/CATALOG.md.
 */
public final class Catalog {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    /**
     * One named thin device. {@code size} is volatile and changes only under the entry's own monitor
     * ({@link #extendTo}, {@link #growTo}, {@link #shrinkTo}), so a write can grow a volume without the file system's
     * namespace lock. The times are volatile too: a write sets mtime and ctime here, in memory, and the next commit
     * stores them with everything else (no I/O per write; see CatalogCommit#touch).
     */
    public static final class Entry {
        public long id;
        public volatile long size;
        public int mode = 0644;
        /** Owner and group; -1: not recorded (a pool from before format 2): the mounting user's. */
        public long uid = -1;
        public long gid = -1;
        /** Nanoseconds since the epoch. atime changes only when asked (utimensat): reads never write it. */
        public volatile long atimeNs;
        public volatile long mtimeNs;
        public volatile long ctimeNs;
        /**
         * The identity of the image an import made this volume equal to (DiffFormat), until anything writes it:
         * an incremental stream applies only where its base identity is found here.
         */
        public volatile String received;
        /**
         * For a snapshot member: the device it was taken of and that device's creation time then (a rollback gives
         * a device a new one), so a bookmark can tell whether a later image descends from it. Null for anything
         * else, and for members taken by a thinfs before format 3's bookmarks.
         */
        public Long origin;
        public Integer originCreated;
        /** The read-only image unmapped blocks read from (format 4), or null; shared by snapshots and clones. */
        public BaseRecord base;

        public Entry() {
        }

        Entry(long id, long size, int mode, long timeNs) {
            this.id = id;
            this.size = size;
            this.mode = mode;
            this.atimeNs = timeNs;
            this.mtimeNs = timeNs;
            this.ctimeNs = timeNs;
        }

        public Entry copy() {
            Entry e = new Entry(id, size, mode, 0);
            e.uid = uid;
            e.gid = gid;
            e.atimeNs = atimeNs;
            e.mtimeNs = mtimeNs;
            e.ctimeNs = ctimeNs;
            e.received = received;
            e.base = base;
            return e;
        }

        /** Format 1 kept one time, the mtime, in milliseconds; it stands for all three. */
        @JsonSetter("mtime")
        void legacyMtime(long millis) {
            long ns = millis * 1_000_000;
            atimeNs = mtimeNs = ctimeNs = ns;
        }

        /** The bytes changed: mtime and ctime become {@code nowNs}. */
        public void dataChanged(long nowNs) {
            mtimeNs = nowNs;
            ctimeNs = nowNs;
            if (received != null) {
                received = null;
            }
        }

        /** Grows the size to {@code end} if it is smaller; returns whether it grew. */
        public boolean extendTo(long end) {
            if (end > size) {
                synchronized (this) {
                    if (end > size) {
                        size = end;
                        return true;
                    }
                }
            }
            return false;
        }

        /** Grows the size to {@code newSize}; returns false (and changes nothing) when that would shrink it. */
        public synchronized boolean growTo(long newSize) {
            if (newSize < size) {
                return false;
            }
            size = newSize;
            return true;
        }

        /** Shrinks the size to {@code newSize} unless it is already smaller. */
        public synchronized void shrinkTo(long newSize) {
            size = Math.min(size, newSize);
        }
    }

    /** The wall clock in nanoseconds since the epoch, as file times are kept. */
    public static long nowNs() {
        java.time.Instant i = java.time.Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /** A snapshot set: the volumes as they were at one {@code mkdir snapshots/NAME}. */
    public static final class SnapshotSet {
        public long created;
        public TreeMap<String, Entry> volumes = new TreeMap<>();
        /**
         * Tags that keep the set (thinfs hold, as zfs hold): while any is here, removing the set or a member of it
         * is refused with EBUSY. Absent (null) when there are none, so a set without holds reads as in format 2.
         */
        public java.util.TreeSet<String> holds;
        /** What the set is for (thinfs snapshot --description), or null. */
        public String description;
        /** null (taken by hand), "auto" (the schedule), "pre" or "post" (snapper's pairs around a change). */
        public String type;
        /** For a "post" set: the "pre" set it closes. */
        public String pre;
    }

    /**
     * What an incremental stream needs of a snapshot set after the set is gone (thinfs bookmark, as zfs bookmark):
     * per volume, the device the snapshot was taken of, that device's creation time then, the pool time of the
     * snapshot (a mapping stamped at or after it was written since), the size, and the image identity a receiver
     * holds.
     */
    public static final class Bookmark {
        public long created;
        public String set;
        public TreeMap<String, BookmarkVolume> volumes = new TreeMap<>();
    }

    public static final class BookmarkVolume {
        public long origin;
        public int originCreated;
        public int since;
        public long size;
        public String identity;
    }

    /** The document stored in a slot. */
    public static final class Document {
        /**
         * 2: owners, times in nanoseconds, orphans. 3: holds on snapshot sets. A thinfs that reads only format 1
         * refuses a newer catalog (its unknown fields); later ones refuse anything newer than their {@link #FORMAT}
         * with one sentence, so a hold is never silently dropped by an older thinfs.
         */
        public int format = FORMAT;
        /** The pool's own identity, made at its first writable open; names its snapshots in diff streams. */
        public String uuid;
        public long transactionId;
        public TreeMap<String, Entry> volumes = new TreeMap<>();
        public TreeMap<String, SnapshotSet> snapshots = new TreeMap<>();
        /**
         * Devices removed while still open (rm or mv over a volume a process or client held): no name points to
         * them, and their blocks are freed when the last handle closes, or at the next open of the pool if the
         * daemon stopped before that.
         */
        public java.util.TreeSet<Long> orphans = new java.util.TreeSet<>();
        /** Bookmarks by name (format 3). */
        public TreeMap<String, Bookmark> bookmarks = new TreeMap<>();
    }

    /**
     * The newest catalog format this thinfs reads. 4 adds base images; a catalog is written as 4 only when a volume
     * has one (an older thinfs must refuse it rather than read zeros where the image shows through), else as 3.
     */
    public static final int FORMAT = 4;

    /** The format {@code doc} needs: the oldest that holds everything in it. */
    static int formatFor(Document doc) {
        if (doc.volumes.values().stream().anyMatch(e -> e.base != null)
                || doc.snapshots.values().stream().anyMatch(s -> s.volumes.values().stream()
                .anyMatch(e -> e.base != null))) {
            return 4;
        }
        return 3;
    }

    private Catalog() {
    }

    static Path slot(Path dir, long transactionId) {
        return dir.resolve("catalog." + (transactionId & 1) + ".json");
    }

    /**
     * Writes {@code doc} (stamped with its transaction id) durably into its slot: {@link #writeSlot}, then
     * {@link Written#makeDurable}.
     */
    static void write(Path dir, Document doc) throws IOException {
        try (SlotFiles files = new SlotFiles(dir)) {
            writeSlot(files, doc).makeDurable();
        }
    }

    /** Slot files are written in whole multiples of this, so a catalog that changes a little keeps its file's size. */
    private static final int SLOT_GRAIN = 4096;
    /** Slack a slot file may keep after its catalog shrank, beyond twice the catalog's size. */
    private static final int SLOT_SLACK = 64 * 1024;

    /**
     * Writes {@code doc} (stamped with its transaction id) into its slot, in place, not yet durable. The slot of
     * N+1 is the one the committed transaction N does not use, so a crash that tears it loses nothing (the metadata
     * still says N, and N's slot is whole); that saves a rename and a directory fsync on every commit. The JSON is
     * padded with spaces (which a JSON reader skips) to the file's current size when that is close, so the file
     * neither shrinks nor grows: no truncate, no block allocation, and the flush has only the data to write.
     */
    static Written writeSlot(SlotFiles files, Document doc) throws IOException {
        Path target = slot(files.dir(), doc.transactionId);
        doc.format = formatFor(doc);
        byte[] json = JSON.writeValueAsBytes(doc);
        // O_NOFOLLOW (SlotFiles): a symbolic link planted in the pool directory is refused, never written through.
        SlotFiles.Slot slot = files.open(target);
        FileChannel ch = slot.channel();
        long old = ch.size();
        long needed = ((json.length + 1L + SLOT_GRAIN - 1) / SLOT_GRAIN) * SLOT_GRAIN;
        long length = old >= needed && old <= 2 * needed + SLOT_SLACK ? old : needed;
        writePadded(ch, length, json);
        if (old > length) {
            ch.truncate(length);
        }
        return new Written(files.dir(), target, ch, slot.created());
    }

    /**
     * Writes {@code parts} one after the other from byte 0 of {@code ch}, then spaces (which a JSON reader skips) up
     * to {@code length} bytes, the last a newline. Not flushed.
     */
    static void writePadded(FileChannel ch, long length, byte[]... parts) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) length);
        for (byte[] part : parts) {
            b.put(part);
        }
        while (b.position() < length - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n').flip();
        long pos = 0;
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
    }

    /** Makes a new file's name in {@code dir} durable (fsync of the directory). */
    static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot fsync a directory; ext4 and xfs order the new name with the file's fsync.
        }
    }

    /** A slot written by {@link #writeSlot}, to be made durable before the superblock that names its transaction. */
    record Written(Path dir, Path file, FileChannel channel, boolean created) {
        /** fdatasync of the slot (its size too), and of the directory when the slot file is new. */
        void makeDurable() throws IOException {
            channel.force(false);
            if (created) {
                forceDirectory(dir);
            }
        }
    }

    /**
     * Reads the slot that belongs to metadata transaction {@code transactionId}. Returns an empty catalog when the
     * pool has none yet (a new pool, or a pool made by the kernel or LVM) or when no slot matches; devices the
     * metadata holds but the catalog does not name then show up in lost+found.
     */
    public static Document read(Path dir, long transactionId) throws IOException {
        try {
            Path file = slot(dir, transactionId);
            com.fasterxml.jackson.databind.JsonNode tree = JSON.readTree(file.toFile());
            int format = tree == null ? 0 : tree.path("format").asInt(1);
            if (format > FORMAT) {
                throw new IOException("catalog " + file + " is format " + format + ", written by a newer thinfs; "
                        + "this one reads formats up to " + FORMAT);
            }
            Document d = JSON.treeToValue(tree, Document.class);
            if (d != null && d.transactionId == transactionId) {
                d.format = FORMAT;
                TimesLog.applyTo(dir, d);          // times an fsync made durable after that transaction
                return d;
            }
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            // no catalog in that slot
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("catalog " + slot(dir, transactionId) + " is damaged: " + e.getOriginalMessage(),
                    e);
        }
        Document empty = new Document();
        empty.transactionId = transactionId;
        return empty;
    }
}
