package org.thinfs.fs.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pool directory's slot files, held open between commits: one descriptor each, no symbolic link followed. */
class SlotFilesTest {
    @TempDir
    Path dir;

    @Test
    void aSlotIsOpenedOnceAndReportedCreatedOnce() throws IOException {
        Path file = dir.resolve("catalog.0.json");
        try (SlotFiles files = new SlotFiles(dir)) {
            SlotFiles.Slot first = files.open(file);
            assertTrue(first.created(), "a new file's name must be made durable by the caller");
            first.channel().write(ByteBuffer.wrap("one".getBytes(StandardCharsets.US_ASCII)), 0);
            SlotFiles.Slot again = files.open(file);
            assertSame(first.channel(), again.channel(), "the second write finds the descriptor open");
            assertFalse(again.created());
        }
        assertEquals("one", Files.readString(file));
    }

    @Test
    void existingSlotsAreOpenedUpFrontAndMissingOnesLeftAlone() throws IOException {
        Path present = dir.resolve("times.0.json");
        Path missing = dir.resolve("times.1.json");
        Files.writeString(present, "x");
        try (SlotFiles files = new SlotFiles(dir)) {
            files.openExisting(present, missing);
            assertFalse(Files.exists(missing), "opening up front creates nothing");
            Files.delete(present);      // held open: the first write still goes to the file opened up front
            assertFalse(files.open(present).created());
            assertTrue(files.open(missing).created());
        }
    }

    @Test
    void aSymbolicLinkIsNeverWrittenThrough() throws IOException {
        Path target = dir.resolve("elsewhere");
        Files.writeString(target, "keep");
        Path link = dir.resolve("catalog.1.json");
        Files.createSymbolicLink(link, target);
        try (SlotFiles files = new SlotFiles(dir)) {
            files.openExisting(link);
            assertThrows(IOException.class, () -> files.open(link));
        }
        assertEquals("keep", Files.readString(target));
    }

    @Test
    void closedFilesRefuseFurtherWrites() throws IOException {
        SlotFiles files = new SlotFiles(dir);
        Path file = dir.resolve("catalog.0.json");
        java.nio.channels.FileChannel ch = files.open(file).channel();
        files.close();
        assertFalse(ch.isOpen());
        assertThrows(IOException.class, () -> files.open(file));
    }
}
