package org.thinfs.core.kernel;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.thinfs.core.testing.TestVectors;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel harness checks itself with no Java in the loop (tools/kernel-check/selftest.py): a hand-written pool
 * whose expected device hashes come from the script's own model, then kernel writes checked by thin_check and
 * thin_dump. About 80 s under TCG. Whether a broken pool fails loudly is {@link KernelCheckTest}'s job.
 */
@Tag("kernel")
class KernelHarnessSelfTest {
    @Test
    void harnessAgreesWithItsOwnModel() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("python3",
                TestVectors.kernelCheckScript().resolveSibling("selftest.py").toString()).redirectErrorStream(true);
        pb.environment().putIfAbsent("KERNEL_CHECK_TIMEOUT", "300");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.MINUTES), "selftest timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.matches("(?s).*\\n\\d+ passed, 0 failed\\s*"), out);
    }
}
