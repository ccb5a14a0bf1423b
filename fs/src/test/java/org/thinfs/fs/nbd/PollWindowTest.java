package org.thinfs.fs.nbd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PollWindowTest {
    @Test
    void aNewConnectionSleepsUntilItsWaitsProvePollingWorthIt() {
        PollWindow w = new PollWindow();
        assertEquals(0, w.windowNs());
        assertFalse(w.startPolling(), "no window, no poll");
        w.slept(PollWindow.MAX_NS * 10);                 // a client that pauses: still no polling
        assertEquals(0, w.windowNs());
    }

    @Test
    void shortWaitsGrowTheWindowToItsMaximumAndLongOnesShrinkItToNothing() {
        PollWindow w = new PollWindow();
        long last = 0;
        for (int i = 0; i < 20; i++) {
            w.slept(PollWindow.MAX_NS);                  // each wait as long as the largest window would catch
            assertTrue(w.windowNs() >= last, "grows");
            last = w.windowNs();
        }
        assertEquals(PollWindow.MAX_NS, w.windowNs());
        w.slept(PollWindow.MAX_NS / 4);                  // shorter than the window: a poll would have caught it
        assertEquals(PollWindow.MAX_NS, w.windowNs());
        w.slept(PollWindow.MAX_NS + 1);
        assertEquals(PollWindow.MAX_NS / 2, w.windowNs());
        for (int i = 0; i < 10; i++) {
            w.slept(PollWindow.MAX_NS * 100);
        }
        assertEquals(0, w.windowNs());
    }

    @Test
    void atMostHalfTheProcessorsPollAtOnce() {
        int cap = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        PollWindow[] readers = new PollWindow[cap + 1];
        int polling = 0;
        for (int i = 0; i < readers.length; i++) {
            readers[i] = new PollWindow();
            readers[i].slept(PollWindow.MAX_NS / 2);
            polling += readers[i].startPolling() ? 1 : 0;
        }
        assertEquals(cap, polling);
        for (int i = 0; i < cap; i++) {
            readers[i].stopPolling();
        }
    }

    @Test
    void theRestOfAPayloadIsPolledForOnlyWhileTheServerHasAtMostOneRequestInHand() {
        PollWindow w = new PollWindow();                // a window of 0: a near end is polled for all the same
        PollWindow.handlingStarted();
        try {
            assertTrue(w.startPollingNearEnd(), "one request in hand: its own");
            w.stopPolling();
            PollWindow.handlingStarted();
            try {
                assertTrue(PollWindow.busy());
                assertFalse(w.startPollingNearEnd(), "another request in hand needs the CPUs");
            } finally {
                PollWindow.handlingEnded();
            }
            assertFalse(PollWindow.busy());
            assertTrue(w.startPollingNearEnd());
            w.stopPolling();
        } finally {
            PollWindow.handlingEnded();
        }
    }
}
