package dev.diffusion4j.guidance;

import dev.diffusion4j.model.ForwardingDenoiser;

import dev.diffusion4j.model.ConditionalDenoiser;

import dev.diffusion4j.model.Condition;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.oracle.MixtureDenoiser;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Classifier-free guidance and dynamic thresholding against their formulas, on a denoiser whose answers are known. */
class ClassifierFreeGuidanceTest {

    /** Test denoisers trained on σ in [0.1, 10]. */
    private abstract static class FakeDenoiser implements ConditionalDenoiser {
        @Override
        public double[] trainingSigmas() {
            return new double[] {0.1, 1, 10};
        }

        @Override
        public double sigmaMin() {
            return 0.1;
        }

        @Override
        public double sigmaMax() {
            return 10;
        }
    }

    /**
     * D(x; σ, y) = (y + 1)·x + σ: every label gives a different, easily checked answer. Records the
     * labels of each call so tests can see how the wrapper batches.
     */
    private static final class LabelledDenoiser extends FakeDenoiser {
        final List<long[]> calls = new ArrayList<>();

        @Override
        public int numClasses() {
            return 3;
        }

        @Override
        public Tensor denoise(Tensor x, Tensor sigma, Tensor labels) {
            calls.add(labels.toLongArray());
            return x.mul(labels.add(1.0).to(x.dtype()).broadcastTo(x)).add(sigma.broadcastTo(x));
        }

        @Override
        public Tensor denoise(Tensor x, Tensor sigma) {
            return denoise(x, sigma, Tensor.full(dev.diffusion4j.tensor.DType.INT64, numClasses(), x.size(0)));
        }

    }

    /**
     * A text-conditioned denoiser over prompts of 3 token ids: D(x; σ, c) = (c₁ mod 10 + 1)·x + σ, c₁ being the
     * first token after start-of-text. The empty prompt (start, end, 0) gives c₁ = end-of-text, 49407 → 8x + σ.
     */
    private static final class PromptDenoiser extends FakeDenoiser {
        static final long[] EMPTY = {49406, 49407, 0};
        final List<long[]> calls = new ArrayList<>();

        @Override
        public int numClasses() {
            return 0;
        }

        @Override
        public int contextLength() {
            return 3;
        }

        @Override
        public Tensor nullCondition(long batch) {
            return Tensor.of(EMPTY, 1, 3).expand(batch, 3);
        }

        @Override
        public Tensor denoise(Tensor x, Tensor sigma, Tensor tokens) {
            calls.add(tokens.contiguous().toLongArray());
            Tensor first = tokens.narrow(1, 1, 1).contiguous().view(tokens.size(0));
            Tensor factor = first.sub(first.div(10.0).floor().mul(10.0)).add(1.0).to(x.dtype());
            return x.mul(factor.broadcastTo(x)).add(sigma.broadcastTo(x));
        }

        @Override
        public Tensor denoise(Tensor x, Tensor sigma) {
            return denoise(x, sigma, nullCondition(x.size(0)));
        }

    }

    @Test
    void promptsAreGuidedAgainstTheEmptyPromptOrANegativePrompt() {
        Condition cat = Condition.ofTokens(new int[] {49406, 2, 49407});          // → 3x + σ
        Condition dog = Condition.ofTokens(new int[] {49406, 5, 49407});          // → 6x + σ
        try (Scope s = Scope.open()) {
            PromptDenoiser d = new PromptDenoiser();
            float[] out = new ClassifierFreeGuidance(d, ClassifierFreeGuidance.Options.of(cat, 2.0))
                    .denoise(Tensor.of(X, 2, 2), Tensor.of(new float[] {1}, 1)).toFloatArray();
            // D(∅) = 8x + σ, D(cat) = 3x + σ, w = 2: 8x + σ + 2·(−5x) = −2x + σ
            for (int i = 0; i < X.length; i++) {
                assertEquals(-2 * X[i] + 1, out[i], 1e-5);
            }
            assertArrayEquals(new long[] {49406, 2, 49407, 49406, 2, 49407, 49406, 49407, 0, 49406, 49407, 0}, d.calls.get(0),
                    "one call: the prompt's rows, then the empty prompt's");
            assertEquals(1, d.calls.size());
            float[] neg = new ClassifierFreeGuidance(d, new ClassifierFreeGuidance.Options(cat, dog, 2.0, 0, Double.POSITIVE_INFINITY, 0))
                    .denoise(Tensor.of(X, 2, 2), Tensor.of(new float[] {1}, 1)).toFloatArray();
            // D(dog) = 6x + σ replaces ∅: 6x + σ + 2·(−3x) = σ
            for (float v : neg) {
                assertEquals(1, v, 1e-5);
            }
        }
        DiffusionException classForText = assertThrows(DiffusionException.class,
                () -> new ClassifierFreeGuidance(new PromptDenoiser(), ClassifierFreeGuidance.Options.of(1, 2)));
        assertTrue(classForText.getMessage().contains("conditioned on text"), classForText.getMessage());
        assertThrows(DiffusionException.class, () -> new ClassifierFreeGuidance(new PromptDenoiser(),
                ClassifierFreeGuidance.Options.of(Condition.ofTokens(new int[] {49406, 49407}), 2)), "a prompt of the wrong length");
        DiffusionException textForClass = assertThrows(DiffusionException.class,
                () -> new ClassifierFreeGuidance(new LabelledDenoiser(), ClassifierFreeGuidance.Options.of(cat, 2)));
        assertTrue(textForClass.getMessage().contains("classes, not text"), textForClass.getMessage());
    }

    private static final float[] X = {1, 2, -1, 0.5f};

    private static float[] guided(ClassifierFreeGuidance.Options o, double sigma, LabelledDenoiser d) {
        try (Scope s = Scope.open()) {
            return new ClassifierFreeGuidance(d, o).denoise(Tensor.of(X, 2, 2), Tensor.of(new float[] {(float) sigma}, 1)).toFloatArray();
        }
    }

    @Test
    void mixesConditionalAndUnconditionalInOneBatchedCall() {
        for (double w : new double[] {0, 1, 3, 7.5}) {
            LabelledDenoiser d = new LabelledDenoiser();
            float[] out = guided(ClassifierFreeGuidance.Options.of(1, w), 0.5, d);
            // D(y = 1) = 2x + σ, D(∅ = 3) = 4x + σ: D̂ = 4x + σ + w·(−2x)
            for (int i = 0; i < X.length; i++) {
                assertEquals(4 * X[i] + 0.5 - 2 * w * X[i], out[i], 1e-5, "w = " + w + " at " + i);
            }
            assertEquals(1, d.calls.size(), "one network call per step");
            assertArrayEquals(new long[] {1, 1, 3, 3}, d.calls.get(0), "conditional half, then null labels");
        }
    }

    @Test
    void negativeClassReplacesTheNullLabel() {
        LabelledDenoiser d = new LabelledDenoiser();
        float[] out = guided(new ClassifierFreeGuidance.Options(Condition.ofClass(2), Condition.ofClass(0), 2.0, 0, Double.POSITIVE_INFINITY, 0), 1.0, d);
        // D(y = 2) = 3x + σ, D(neg = 0) = x + σ: D̂ = x + σ + 2·2x = 5x + σ
        for (int i = 0; i < X.length; i++) {
            assertEquals(5 * X[i] + 1, out[i], 1e-5);
        }
        assertArrayEquals(new long[] {2, 2, 0, 0}, d.calls.get(0));
    }

    @Test
    void outsideTheGuidanceIntervalOnlyTheConditionalModelRuns() {
        ClassifierFreeGuidance.Options o = new ClassifierFreeGuidance.Options(Condition.ofClass(0), null, 5.0, 0.5, 2.0, 0);
        LabelledDenoiser d = new LabelledDenoiser();
        float[] out = guided(o, 3.0, d);
        for (int i = 0; i < X.length; i++) {
            assertEquals(X[i] + 3, out[i], 1e-5, "D(y = 0) = x + σ");
        }
        assertArrayEquals(new long[] {0, 0}, d.calls.get(0), "a single conditional evaluation of B samples");
        float[] inside = guided(o, 1.0, new LabelledDenoiser());
        // inside: D(∅) = 4x + σ, D(0) = x + σ, w = 5: 4x + σ − 15x
        assertEquals(4 * X[0] + 1 - 15 * X[0], inside[0], 1e-5);
    }

    @Test
    void perSampleNoiseLevelsGetPerSampleWeights() {
        ClassifierFreeGuidance.Options o = new ClassifierFreeGuidance.Options(Condition.ofClass(1), null, 3.0, 0.5, 2.0, 0);
        try (Scope s = Scope.open()) {
            float[] out = new ClassifierFreeGuidance(new LabelledDenoiser(), o)
                    .denoise(Tensor.of(X, 2, 2), Tensor.of(new float[] {1.0f, 4.0f}, 2)).toFloatArray();
            // sample 0 (σ = 1, inside): 4x + 1 − 6x; sample 1 (σ = 4, outside → w = 1): 2x + 4
            assertEquals(4 * X[0] + 1 - 6 * X[0], out[0], 1e-5);
            assertEquals(2 * X[2] + 4, out[2], 1e-5);
        }
    }

    @Test
    void rescaleRestoresTheConditionalStandardDeviation() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1, -2, 3, 0.5f, -1, 2}, 1, 6);
            Tensor sigma = Tensor.of(new float[] {0}, 1);
            LabelledDenoiser d = new LabelledDenoiser();
            Tensor cond = d.denoise(x, sigma, Tensor.of(new long[] {0}, 1));
            Tensor plain = new ClassifierFreeGuidance(d, ClassifierFreeGuidance.Options.of(0, 4.0)).denoise(x, sigma);
            Tensor full = new ClassifierFreeGuidance(d, new ClassifierFreeGuidance.Options(Condition.ofClass(0), null, 4.0, 0, Double.POSITIVE_INFINITY, 1.0))
                    .denoise(x, sigma);
            Tensor half = new ClassifierFreeGuidance(d, new ClassifierFreeGuidance.Options(Condition.ofClass(0), null, 4.0, 0, Double.POSITIVE_INFINITY, 0.5))
                    .denoise(x, sigma);
            assertEquals(cond.std(1, false).item(), full.std(1, false).item(), 1e-5, "phi = 1: the conditional std");
            assertTrue(plain.std(1, false).item() > 2 * cond.std(1, false).item(), "plain guidance inflates the scale");
            assertTrue(half.sub(plain.add(full).mul(0.5)).abs().amax().item() < 1e-5, "phi = 0.5: halfway");
        }
    }

    @Test
    void clearErrorsForModelsAndClassesThatDoNotFit() {
        DiffusionException unconditional = assertThrows(DiffusionException.class,
                () -> new ClassifierFreeGuidance(new ForwardingDenoiser(new LabelledDenoiser()) { }, ClassifierFreeGuidance.Options.of(0, 2)));
        assertTrue(unconditional.getMessage().contains("conditional model"), unconditional.getMessage());
        DiffusionException unknown = assertThrows(DiffusionException.class,
                () -> new ClassifierFreeGuidance(new LabelledDenoiser(), ClassifierFreeGuidance.Options.of(3, 2)));
        assertTrue(unknown.getMessage().contains("unknown class 3") && unknown.getMessage().contains("0 to 2"), unknown.getMessage());
        assertThrows(DiffusionException.class,
                () -> new ClassifierFreeGuidance(new LabelledDenoiser(), new ClassifierFreeGuidance.Options(Condition.ofClass(0), Condition.ofClass(7), 2, 0, 1, 0)));
        assertThrows(DiffusionException.class, () -> ClassifierFreeGuidance.Options.of(0, -1));
        assertThrows(DiffusionException.class, () -> new ClassifierFreeGuidance.Options(Condition.ofClass(0), null, 2, 0, 1, 1.5));
    }

    @Test
    void dynamicThresholdingScalesOnlySamplesBeyondTheUnitBox() {
        try (Scope s = Scope.open()) {
            // sample 0 within [−1, 1]: untouched; sample 1 reaches 4 at its 0.995 quantile → clip at s, divide by s
            float[] inner = new float[200];
            for (int i = 0; i < 100; i++) {
                inner[i] = (i - 50) / 60f;
                inner[100 + i] = (i - 50) / 12.5f;   // −4 … 3.92
            }
            Tensor x0 = Tensor.of(inner, 2, 100);
            Tensor expectedS = x0.narrow(0, 1, 1).abs().quantile(0.995, 1, false);
            DynamicThreshold t = new DynamicThreshold(MixtureDenoiser.points(new double[][] {{0}}), 0.995);
            float[] out = t.threshold(x0).toFloatArray();
            for (int i = 0; i < 100; i++) {
                assertEquals(inner[i], out[i], 1e-6, "inside the box stays");
            }
            double sv = expectedS.item();
            assertTrue(sv > 3.8 && sv < 4, "quantile " + sv);
            for (int i = 100; i < 200; i++) {
                double want = Math.max(-sv, Math.min(sv, inner[i])) / sv;
                assertEquals(want, out[i], 1e-5);
            }
            assertEquals(-1.0, out[100], 1e-6, "the extreme pixel lands on the box edge");
        }
    }
}
