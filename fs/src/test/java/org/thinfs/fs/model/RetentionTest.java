package org.thinfs.fs.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The keep rules against a fixed calendar (UTC, and once in a zone where the day starts at another UTC hour): each
 * row names sets by their creation time and says which a policy prunes.
 */
class RetentionTest {
    /** Sets named by their creation time. */
    private static Map<String, Long> sets(String... isoTimes) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String t : isoTimes) {
            m.put(t, Instant.parse(t).toEpochMilli());
        }
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        last=3            | 2024-01-01T10:00:00Z 2024-01-01T11:00:00Z 2024-01-01T12:00:00Z 2024-01-01T13:00:00Z 2024-01-01T14:00:00Z | 2024-01-01T10:00:00Z 2024-01-01T11:00:00Z
        hourly=2          | 2024-01-01T10:05:00Z 2024-01-01T10:40:00Z 2024-01-01T11:10:00Z 2024-01-01T11:50:00Z 2024-01-01T12:20:00Z | 2024-01-01T10:05:00Z 2024-01-01T10:40:00Z 2024-01-01T11:10:00Z
        daily=2           | 2024-01-01T23:00:00Z 2024-01-02T01:00:00Z 2024-01-02T22:00:00Z 2024-01-03T00:30:00Z | 2024-01-01T23:00:00Z 2024-01-02T01:00:00Z
        daily=1,hourly=2  | 2024-01-02T09:00:00Z 2024-01-03T08:10:00Z 2024-01-03T08:50:00Z 2024-01-03T09:10:00Z 2024-01-03T10:00:00Z | 2024-01-02T09:00:00Z 2024-01-03T08:10:00Z 2024-01-03T08:50:00Z
        weekly=2          | 2024-01-06T12:00:00Z 2024-01-07T23:59:00Z 2024-01-08T00:01:00Z 2024-01-14T12:00:00Z 2024-01-15T12:00:00Z | 2024-01-06T12:00:00Z 2024-01-07T23:59:00Z 2024-01-08T00:01:00Z
        monthly=2,yearly=2| 2022-12-31T12:00:00Z 2023-06-01T00:00:00Z 2023-12-01T00:00:00Z 2023-12-31T00:00:00Z 2024-01-05T00:00:00Z | 2022-12-31T12:00:00Z 2023-06-01T00:00:00Z 2023-12-01T00:00:00Z
        last=1,daily=1    | 2024-01-01T10:00:00Z 2024-01-01T20:00:00Z | 2024-01-01T10:00:00Z
        last=0            | 2024-01-01T10:00:00Z 2024-01-01T20:00:00Z | 2024-01-01T10:00:00Z 2024-01-01T20:00:00Z
        yearly=5          | 2020-01-01T00:00:00Z 2021-01-01T00:00:00Z | -
        """)
    void keepRules(String keep, String created, String pruned) {
        List<String> expect = pruned.equals("-") ? List.of() : Arrays.asList(pruned.split(" "));
        assertEquals(expect, Retention.parse(keep).prune(sets(created.split(" ")), ZoneOffset.UTC), keep);
    }

    @Test
    void daysFollowTheTimeZone() {
        // 23:30 UTC on the 1st is already the 2nd in Tokyo: with daily=1 there it is the newest of its day.
        Map<String, Long> s = sets("2024-01-01T10:00:00Z", "2024-01-01T23:30:00Z");
        assertEquals(List.of("2024-01-01T10:00:00Z"), Retention.parse("daily=1").prune(s, ZoneOffset.UTC));
        assertEquals(List.of("2024-01-01T10:00:00Z"), Retention.parse("daily=1").prune(s, ZoneId.of("Asia/Tokyo")));
        assertEquals(List.of(), Retention.parse("daily=2").prune(s, ZoneId.of("Asia/Tokyo")));
    }

    @Test
    void badPoliciesAreOneSentence() {
        for (String bad : new String[]{"", "last", "last=-1", "fortnightly=2", "daily=x", "daily=1,daily=2"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Retention.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--keep"), e.getMessage());
        }
    }
}
