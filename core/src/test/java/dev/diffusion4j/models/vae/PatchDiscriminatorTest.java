package dev.diffusion4j.models.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.diffusion4j.tensor.AdamW;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class PatchDiscriminatorTest {

    /** Three stride-2 levels judge 70×70 patches, as in pix2pix; a 64 px image gives 6×6 logits. */
    @Test
    void eachLogitSeesA70PixelPatch() {
        try (Scope s = Scope.open()) {
            PatchDiscriminator d = new PatchDiscriminator(3, 8, 3, new Generator(0));
            assertArrayEquals(new long[] {2, 1, 6, 6}, d.forward(Tensor.zeros(2, 3, 64, 64)).shape());
            Tensor x = Tensor.randn(new Generator(1), 1, 3, 160, 160).requiresGrad_(true);
            Tensor logits = d.forward(x);
            logits.narrow(2, 8, 1).narrow(3, 8, 1).sum().backward();
            // GroupNorm's statistics span the whole map, so every pixel has some influence; the convolutions'
            // own field is where it is large: outside it, pixels move the logit by far less
            Tensor influence = x.grad().abs().sum(new long[] {0, 1}, false);        // [160, 160]
            double strong = influence.amax().item() * 0.05;
            double rows = influence.amax(1, false).gt(strong).to(DType.FLOAT32).sum().item();
            double cols = influence.amax(0, false).gt(strong).to(DType.FLOAT32).sum().item();
            // logit (8, 8) sees a 70-pixel square near the middle (stride 8); the first 30 rows lie outside it
            assertTrue(influence.narrow(0, 0, 30).amax().item() < strong, "outside the field the influence is weak");
            assertEquals(70, rows, 0);
            assertEquals(70, cols, 0);
        }
    }

    @Test
    void hingeLossesFollowTheirDefinitions() {
        try (Scope s = Scope.open()) {
            Tensor real = Tensor.of(new float[] {2f, 0.5f}, 2);
            Tensor fake = Tensor.of(new float[] {-2f, 0.5f}, 2);
            // ½·(mean(0, 0.5) + mean(0, 1.5)) and −mean(−2, 0.5)
            assertEquals(0.5, PatchDiscriminator.hingeLoss(real, fake).item(), 1e-6);
            assertEquals(0.75, PatchDiscriminator.generatorLoss(fake).item(), 1e-6);
        }
    }

    /** A critic trained a few steps tells smooth images from noise: its hinge loss falls from ~1 toward 0. */
    @Test
    void learnsToTellSmoothImagesFromNoise() {
        try (Scope s = Scope.open()) {
            Generator g = new Generator(2);
            PatchDiscriminator d = new PatchDiscriminator(1, 8, 2, g);
            double first = 0;
            double last = 0;
            try (AdamW opt = new AdamW(d.parameters(), 2e-3, 0.5, 0.9, 1e-8, 0)) {
                for (int step = 0; step < 40; step++) {
                    try (Scope inner = Scope.open()) {
                        Tensor real = Tensor.randn(g, 8, 1, 8, 8).upsampleNearest(4).avgPool2d(3, 1).tanh();
                        Tensor fake = Tensor.randn(g, 8, 1, 30, 30).tanh();
                        opt.zeroGrad();
                        Tensor loss = PatchDiscriminator.hingeLoss(d.forward(real), d.forward(fake));
                        loss.backward();
                        opt.step();
                        if (step == 0) {
                            first = loss.item();
                        }
                        last = loss.item();
                    }
                }
            }
            assertTrue(first > 0.6 && last < 0.2, "hinge loss " + first + " -> " + last);
        }
    }
}
