package dev.diffusion4j.models.sd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Condition;
import dev.diffusion4j.models.GoldenFixtures;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import dev.diffusion4j.text.ClipTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Prompts of several chunks and with emphasis, on the tiny pipeline diffusers saved: each chunk is
 * the text encoder's reading of its 75 tokens framed alone, the negative is lengthened with empty
 * chunks, a comma near a chunk's end takes the cut, and a weight scales its tokens' features and
 * then the chunk back to its mean.
 */
class StableDiffusionPromptsTest {
    private static StableDiffusionNetwork net;
    private static ClipTokenizer tokenizer;

    @BeforeAll
    static void load() {
        net = StableDiffusionFolder.load(GoldenFixtures.folder("sd_pipeline")).network();
        tokenizer = net.tokenizer();
    }

    /** The text encoder's last state for token ids framed as one chunk [1, 77, C]. */
    private static Tensor chunk(int[] tokens) {
        int[] ids = new int[77];
        Arrays.fill(ids, tokenizer.padId());
        ids[0] = tokenizer.startId();
        System.arraycopy(tokens, 0, ids, 1, tokens.length);
        ids[tokens.length + 1] = tokenizer.endId();
        return net.textEncoder().forward(Tensor.of(Arrays.stream(ids).asLongStream().toArray(), 1, 77)).lastHiddenState();
    }

    private static void assertSame(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        assertEquals(0, actual.sub(expected).abs().amax().item(), 1e-6, what);
    }

    @Test
    void longPromptsAreReadInChunksAndTheNegativeIsLengthened() {
        StringBuilder words = new StringBuilder();
        for (int i = 0; words.length() < 600; i++) {
            words.append(i % 2 == 0 ? "red cube " : "blue table ");
        }
        String prompt = words.toString().strip();
        int[] tokens = tokenizer.tokenize(prompt);
        assertTrue(tokens.length > 75 && tokens.length <= 150, tokens.length + " tokens");
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Condition[] both = net.encodePrompts(prompt, "blurry", 0, new ArrayList<>());
            Tensor p = both[0].features();
            Tensor n = both[1].features();
            assertArrayEquals(new long[] {1, 154, 32}, p.shape());
            assertArrayEquals(p.shape(), n.shape(), "guidance batches both");
            assertSame(chunk(Arrays.copyOf(tokens, 75)), p.narrow(1, 0, 77), "first chunk");
            assertSame(chunk(Arrays.copyOfRange(tokens, 75, tokens.length)), p.narrow(1, 77, 77), "second chunk");
            assertSame(chunk(tokenizer.tokenize("blurry")), n.narrow(1, 0, 77), "the negative");
            assertSame(chunk(new int[0]), n.narrow(1, 77, 77), "the negative lengthened by the empty prompt");
        }
    }

    @Test
    void aCommaNearTheEndTakesTheCut() {
        int[] filler = tokenizer.tokenize("cube");
        StringBuilder b = new StringBuilder();
        int count = 0;
        while (count + filler.length <= 70) {
            b.append("cube ");
            count += filler.length;
        }
        String head = b.toString().strip() + ",";
        int headTokens = tokenizer.tokenize(head).length;
        String prompt = head + " a red table on a blue table with a red cube";
        assertTrue(tokenizer.tokenize(prompt).length > 75, "longer than a chunk");
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor p = net.encodePrompts(prompt, null, 0, new ArrayList<>())[0].features();
            assertSame(chunk(tokenizer.tokenize(head)), p.narrow(1, 0, 77), "the first chunk ends at the comma (" + headTokens + " tokens)");
            assertSame(chunk(tokenizer.tokenize("a red table on a blue table with a red cube")), p.narrow(1, 77, 77), "the rest");
        }
    }

    @Test
    void weightsScaleTheirTokensThenTheMeanIsRestored() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor plain = chunk(tokenizer.tokenize("a red cube"));
            int before = tokenizer.tokenize("a ").length;
            int red = tokenizer.tokenize("red").length;
            float[] w = new float[77];
            Arrays.fill(w, 1f);
            for (int i = 0; i < red; i++) {
                w[1 + before + i] = 1.5f;
            }
            Tensor scaled = plain.mul(Tensor.of(w, 1, 77, 1));
            Tensor expected = scaled.mul(plain.mean().div(scaled.mean()));
            assertSame(expected, net.promptFeatures("a (red:1.5) cube", 0), "(red:1.5)");
            assertTrue(net.promptFeatures("a (red:1.5) cube", 0).sub(plain).abs().amax().item() > 1e-2, "the weight changes the features");
            assertSame(plain, net.promptFeatures("a red cube", 0), "no emphasis: diffusers' reading");
            assertEquals(154, net.promptFeatures("a red cube BREAK a blue table", 0).size(1), "BREAK starts a chunk");
        }
    }

    @Test
    void anUnbalancedPromptIsAnError() {
        String m = assertThrows(DiffusionException.class, () -> net.encodePrompts("a (red cube", null, 0, new ArrayList<>())).getMessage();
        assertTrue(m.contains("never closed"), m);
    }
}
