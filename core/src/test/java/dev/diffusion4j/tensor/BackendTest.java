package dev.diffusion4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackendTest {

    /** The test JVM gets the launcher's malloc settings from the build; a missing one would slow every image test. */
    @Test
    void reportsTheGlibcMallocSettingsOfThisProcess() {
        assertEquals("glibc malloc settings in place", Backend.mallocSettings());
        assertTrue(Backend.describe().endsWith("glibc malloc settings in place"), Backend.describe());
    }
}
