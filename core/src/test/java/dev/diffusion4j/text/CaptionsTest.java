package dev.diffusion4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Captions built from class names and the tone and size read off the pixels. */
class CaptionsTest {
    private static final List<String> NAMES = List.of("T-shirt/top", "Sandal", "Bag");

    /** A 10×10 image in [−1, 1]: {@code covered} pixels at intensity {@code tone} in [0, 1], the rest black. */
    private static float[] image(int covered, double tone) {
        float[] px = new float[100];
        Arrays.fill(px, -1f);
        for (int i = 0; i < covered; i++) {
            px[i] = (float) (2 * tone - 1);
        }
        return px;
    }

    @Test
    void attributesComeFromToneAndCoverage() {
        assertArrayEquals(new String[] {"dark", "small"}, Captions.attributes(image(10, 0.2), 0, 100));
        assertArrayEquals(new String[] {"light", "large"}, Captions.attributes(image(80, 0.9), 0, 100));
        assertArrayEquals(new String[] {"", ""}, Captions.attributes(image(40, 0.5), 0, 100));
        assertArrayEquals(new String[] {"dark", "small"}, Captions.attributes(image(0, 0), 0, 100), "an empty frame");
    }

    @Test
    void captionsFillTheTemplatesWithoutGaps() {
        Captions c = new Captions(NAMES, ClipTokenizer.clip(), 77);
        assertEquals("a photo of a small dark sandal", c.caption(5, 1, "dark", "small"));
        assertEquals("a photo of a bag", c.caption(5, 2, "", ""));
        assertEquals("a t-shirt/top", c.caption(3, 0, "", ""));
        assertEquals("a light bag", c.caption(3, 2, "light", "large"));
        assertThrows(DiffusionException.class, () -> new Captions(List.of(), ClipTokenizer.clip(), 77));
    }

    @Test
    void tokensEncodeOneRandomCaptionPerImage() {
        try (Scope s = Scope.open()) {
            Captions c = new Captions(NAMES, ClipTokenizer.clip(), 16);
            int b = 60;
            float[] px = new float[b * 100];
            long[] labels = new long[b];
            for (int i = 0; i < b; i++) {
                System.arraycopy(image(i % 2 == 0 ? 10 : 80, i % 2 == 0 ? 0.2 : 0.9), 0, px, i * 100, 100);
                labels[i] = i % 3;
            }
            Tensor images = Tensor.of(px, b, 1, 10, 10);
            Tensor tokens = c.tokens(images, Tensor.of(labels, b), new Generator(7));
            assertArrayEquals(new long[] {b, 16}, tokens.shape());
            assertEquals(0, tokens.sub(c.tokens(images, Tensor.of(labels, b), new Generator(7))).abs().amax().item(), 0,
                    "the same generator state, the same captions");
            long[] ids = tokens.toLongArray();
            ClipTokenizer tok = ClipTokenizer.clip();
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < b; i++) {
                int end = 1;
                while (ids[i * 16 + end] != ClipTokenizer.END_OF_TEXT) {
                    end++;
                }
                int[] row = new int[end + 1];
                for (int j = 0; j <= end; j++) {
                    row[j] = (int) ids[i * 16 + j];
                }
                assertEquals(ClipTokenizer.START_OF_TEXT, row[0]);
                String text = tok.decode(row).replace(" ", "");
                seen.add(text);
                String name = NAMES.get(i % 3).toLowerCase(java.util.Locale.ROOT).replace(" ", "");
                assertTrue(text.endsWith(name), text + " should name " + name);
                assertTrue(!text.contains(i % 2 == 0 ? "light" : "dark") && !text.contains(i % 2 == 0 ? "large" : "small"), text);
            }
            assertTrue(seen.size() >= 12, "several templates are used: " + seen);
            List<String> texts = c.captions(images, Tensor.of(labels, b), new Generator(7));
            assertTrue(tokens.equal(tok.ids(texts, 16)), "the tokens are those of the captions the same draw gives as text");
            assertTrue(texts.stream().allMatch(t -> seen.contains(t.replace(" ", ""))), texts.toString());
        }
    }
}
