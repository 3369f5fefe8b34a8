package dev.diffusion4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.tensor.Tensor;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The golden fixtures that tools/golden makes by running the reference implementations: where a
 * fixture folder is, and how close a port's output must come to the reference's.
 */
public final class GoldenFixtures {
    private GoldenFixtures() {
    }

    /** The folder {@code golden/<name>} among the test resources. */
    public static Path folder(String name) {
        try {
            return Path.of(GoldenFixtures.class.getResource("/golden/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Within 1e-4 of the reference's largest magnitude (at least 1): float32 against float32, where
     * only the kernels' rounding should differ.
     */
    public static void assertClose(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        double scale = Math.max(1, expected.abs().amax().item());
        double error = actual.sub(expected).abs().amax().item();
        assertTrue(error <= 1e-4 * scale, what + ": max error " + error + " against magnitude " + scale);
    }

    /** The reference runs a fixture's {@code cases.json} lists, by their {@code name}. */
    @SuppressWarnings("unchecked")
    public static java.util.Map<String, java.util.Map<String, Object>> cases(Path folder) {
        java.util.Map<String, java.util.Map<String, Object>> out = new java.util.LinkedHashMap<>();
        for (Object c : (java.util.List<?>) dev.diffusion4j.io.Json.readMap(folder.resolve("cases.json")).get("cases")) {
            java.util.Map<String, Object> m = (java.util.Map<String, Object>) c;
            out.put((String) m.get("name"), m);
        }
        return out;
    }
}
