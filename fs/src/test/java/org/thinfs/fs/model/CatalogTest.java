package org.thinfs.fs.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The catalog's two slots: transaction N+1 is written in place over the slot N does not use, so a write torn by a
 * crash (before the metadata commit of N+1, which comes after it) leaves transaction N's catalog whole.
 */
class CatalogTest {
    @TempDir
    Path dir;

    private static Catalog.Document doc(long transactionId, String... volumes) {
        Catalog.Document d = new Catalog.Document();
        d.transactionId = transactionId;
        long id = 1;
        for (String v : volumes) {
            d.volumes.put(v, new Catalog.Entry(id++, 1L << 20, 0644, 0));
        }
        return d;
    }

    @Test
    void aTornWriteOfTheNextSlotLeavesTheCommittedOneWhole() throws Exception {
        Catalog.write(dir, doc(4, "a"));
        Catalog.write(dir, doc(5, "a", "b"));
        assertEquals(Catalog.slot(dir, 4), Catalog.slot(dir, 6), "N+1 reuses the slot of N-1");

        // The crash: transaction 6's catalog only half written over slot 0.
        byte[] full = Files.readAllBytes(Catalog.slot(dir, 5));
        int json = new String(full, java.nio.charset.StandardCharsets.UTF_8).stripTrailing().length();
        Files.write(Catalog.slot(dir, 6), Arrays.copyOf(full, json / 2));

        Catalog.Document committed = Catalog.read(dir, 5);
        assertEquals(5, committed.transactionId);
        assertEquals(List.of("a", "b"), List.copyOf(committed.volumes.keySet()));
        assertThrows(IOException.class, () -> Catalog.read(dir, 6), "a torn slot is refused, not guessed");

        // The next commit's write replaces the torn slot whole, shorter or longer than what was there.
        Catalog.write(dir, doc(6, "c"));
        assertEquals(List.of("c"), List.copyOf(Catalog.read(dir, 6).volumes.keySet()));
        assertEquals(List.of("a", "b"), List.copyOf(Catalog.read(dir, 5).volumes.keySet()));
    }

    @Test
    void aSlotIsRewrittenInPlaceAtItsSizeAndReadsBackWhateverItHeldBefore() throws Exception {
        String[] many = new String[1000];
        for (int i = 0; i < many.length; i++) {
            many[i] = "volume-with-a-long-name-" + i;
        }
        Catalog.write(dir, doc(2, many));
        long big = Files.size(Catalog.slot(dir, 2));
        assertEquals(0, big % 4096, "slots are written in whole 4 KiB pieces");

        // A catalog a little smaller keeps the file's size (no truncate, no allocation to journal): padded.
        Catalog.write(dir, doc(4, Arrays.copyOf(many, 950)));
        assertEquals(big, Files.size(Catalog.slot(dir, 4)));
        assertEquals(950, Catalog.read(dir, 4).volumes.size(), "the old, longer catalog's tail is overwritten");

        // Much smaller: the file shrinks to the catalog's size.
        Catalog.write(dir, doc(6, "a"));
        assertEquals(4096, Files.size(Catalog.slot(dir, 6)));
        assertEquals(List.of("a"), List.copyOf(Catalog.read(dir, 6).volumes.keySet()));

        // Larger again: it grows.
        Catalog.write(dir, doc(8, many));
        assertEquals(big, Files.size(Catalog.slot(dir, 8)));
        assertEquals(1000, Catalog.read(dir, 8).volumes.size());
    }

    @Test
    void aSymbolicLinkInPlaceOfASlotIsNeverWrittenThrough() throws Exception {
        Path outside = Files.writeString(dir.resolve("outside.txt"), "precious");
        Path pool = Files.createDirectory(dir.resolve("pool"));
        Files.createSymbolicLink(Catalog.slot(pool, 1), outside);
        assertThrows(IOException.class, () -> Catalog.write(pool, doc(1, "a")));
        assertEquals("precious", Files.readString(outside));
    }
}
