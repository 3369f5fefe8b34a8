package dev.diffusion4j.objective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The symmetric InfoNCE loss against its closed form on hand-made batches. */
class ClipLossTest {

    /** s·I in float64 for a batch of four: every image is most similar to its own caption. */
    private static Tensor scaledIdentity(double s) {
        double[] l = new double[16];
        for (int i = 0; i < 4; i++) {
            l[i * 5] = s;
        }
        return Tensor.of(l, 4, 4);
    }

    @Test
    void identitySimilarityGivesTheClosedForm() {
        try (Scope sc = Scope.open()) {
            for (double s : new double[] {0, 1, 1 / 0.07}) {
                // each row and column: −log(eˢ / (eˢ + 3)) = log(1 + 3e⁻ˢ), in both directions alike
                double loss = ClipLoss.symmetricInfoNce(scaledIdentity(s), List.of("a", "b", "c", "d")).item();
                double expected = Math.log1p(3 * Math.exp(-s));
                assertEquals(expected, loss, 1e-9 * expected, "scale " + s);
            }
            assertEquals(Math.log(4), ClipLoss.symmetricInfoNce(scaledIdentity(0), List.of("a", "b", "c", "d")).item(), 1e-6,
                    "no signal: chance among four");
        }
    }

    @Test
    void bothDirectionsAreAveraged() {
        try (Scope sc = Scope.open()) {
            // cosines [[1, 0.6], [0, 0.8]] at scale 5: text 1 is nearly as close to image 0 as to its own, so the
            // text→image direction is the harder one: log(1 + e⁻²), log(1 + e⁻⁴) against log(1 + e⁻⁵), log(1 + e⁻¹)
            double s = 5;
            double a = s;
            double b = 0.6 * s;
            double c = 0;
            double d = 0.8 * s;
            Tensor logits = Tensor.of(new double[] {a, b, c, d}, 2, 2).to(dev.diffusion4j.tensor.DType.FLOAT32);
            double imageToText = (nll(a, a, b) + nll(d, c, d)) / 2;
            double textToImage = (nll(a, a, c) + nll(d, b, d)) / 2;
            double loss = ClipLoss.symmetricInfoNce(logits, List.of("x", "y")).item();
            assertEquals((imageToText + textToImage) / 2, loss, 1e-6);
            assertEquals(-0.0874, imageToText - textToImage, 1e-4, "the two directions differ, so a one-sided loss would show");
        }
    }

    @Test
    void identicalCaptionsAreMatchesNotNegatives() {
        try (Scope sc = Scope.open()) {
            List<String> captions = List.of("a coat", "a coat", "a bag", "sneaker");
            assertArrayEquals(new float[] {0.5f, 0.5f, 0, 0, 0.5f, 0.5f, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
                    ClipLoss.targets(captions).toFloatArray());
            double s = 2;
            // rows 0 and 1 (images, and by symmetry texts) put half their target on the other "a coat":
            // −½(s − lse) − ½(0 − lse) = lse − s/2 with lse = log(eˢ + 3); rows 2 and 3: lse − s
            double lse = Math.log(Math.exp(s) + 3);
            double expected = (2 * (lse - s / 2) + 2 * (lse - s)) / 4;
            assertEquals(expected, ClipLoss.symmetricInfoNce(scaledIdentity(s), captions).item(), 1e-6);

            // two images that their (identical) caption matches equally well: the loss neither prefers one of
            // them nor pushes either away from the caption, which the identity target would do to each in turn
            float t = 2f;
            Tensor tied = Tensor.of(new float[] {t, t, 0, 0, t, t, 0, 0, 0, 0, t, 0, 0, 0, 0, t}, 4, 4).requiresGrad_(true);
            Tensor loss = ClipLoss.symmetricInfoNce(tied, captions);
            assertEquals((2 * (Math.log(2 * Math.exp(t) + 2) - t) + 2 * (lse - s)) / 4, loss.item(), 1e-6);
            loss.backward();
            float[] grad = tied.grad().toFloatArray();
            assertEquals(grad[0], grad[1], 1e-7, "image 0 is drawn to both copies of its caption alike");
            assertTrue(grad[1] < 0, "and towards the other copy, not away from it: " + grad[1]);
        }
    }

    @Test
    void logitsMustBeSquareInTheBatch() {
        try (Scope sc = Scope.open()) {
            assertThrows(DiffusionException.class, () -> ClipLoss.symmetricInfoNce(Tensor.zeros(3, 4), List.of("a", "b", "c")));
            assertThrows(DiffusionException.class, () -> ClipLoss.symmetricInfoNce(Tensor.zeros(3, 3), List.of("a", "b")));
        }
    }

    /** −log softmax of the first of two logits at {@code own}: −own + log(eˣ + eʸ). */
    private static double nll(double own, double x, double y) {
        return -own + Math.log(Math.exp(x) + Math.exp(y));
    }
}
