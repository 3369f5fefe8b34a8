package dev.diffusion4j.process;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class PredictionTest {

    @Test
    void handComputedConversionsAtAlphaBar036() {
        // ᾱ = 0.36: √ᾱ = 0.6, √(1−ᾱ) = 0.8; x₀ = 1, ε = 2 → x_t = 0.6 + 1.6 = 2.2, v = 0.6·2 − 0.8·1 = 0.4
        try (Scope sc = Scope.open()) {
            Tensor ab = Tensor.of(new double[] {0.36}, 1);
            Tensor x0 = Tensor.of(new double[] {1}, 1, 1);
            Tensor eps = Tensor.of(new double[] {2}, 1, 1);
            Tensor xt = Tensor.of(new double[] {2.2}, 1, 1);
            assertEquals(0.4, Prediction.velocity(x0, eps, ab).item(), 1e-15);
            assertEquals(0.4, Prediction.V.target(x0, eps, ab).item(), 1e-15);
            assertEquals(2.0, Prediction.EPSILON.target(x0, eps, ab).item(), 0);
            assertEquals(1.0, Prediction.SAMPLE.target(x0, eps, ab).item(), 0);
            // score = −ε/√(1−ᾱ) = −2/0.8
            assertEquals(-2.5, Prediction.score(eps, ab).item(), 1e-15);
            Tensor v = Tensor.of(new double[] {0.4}, 1, 1);
            assertEquals(1.0, Prediction.V.toX0(v, xt, ab).item(), 1e-15);
            assertEquals(2.0, Prediction.V.toEps(v, xt, ab).item(), 1e-15);
            assertEquals(1.0, Prediction.EPSILON.toX0(eps, xt, ab).item(), 1e-15);
            assertEquals(2.0, Prediction.SAMPLE.toEps(x0, xt, ab).item(), 1e-15);
        }
    }

    @Test
    void scoreIsTheGradientOfTheForwardMarginalLogDensity() {
        // ∇ log N(x_t; √ᾱ x₀, (1−ᾱ)) = −(x_t − √ᾱ x₀)/(1−ᾱ)
        try (Scope sc = Scope.open()) {
            Generator g = new Generator(2);
            Tensor x0 = Tensor.randn(g, 3, 4).to(DType.FLOAT64);
            Tensor eps = Tensor.randn(g, 3, 4).to(DType.FLOAT64);
            double[] abs = {0.9, 0.5, 0.01};
            Tensor ab = Tensor.of(abs, 3);
            double[] xt = x0.mul(ab.sqrt().broadcastTo(x0)).add(eps.mul(ab.rsub(1).sqrt().broadcastTo(x0))).toDoubleArray();
            double[] x = x0.toDoubleArray();
            double[] score = Prediction.score(eps, ab).toDoubleArray();
            for (int i = 0; i < 12; i++) {
                double a = abs[i / 4];
                assertEquals(-(xt[i] - Math.sqrt(a) * x[i]) / (1 - a), score[i], 1e-10);
            }
        }
    }

    @Test
    void everyParameterisationRoundTripsThroughItsTarget() {
        NoiseSchedule s = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        GaussianDiffusion q = new GaussianDiffusion(s);
        long[] ts = {0, 1, 250, 500, 998, 999};
        try (Scope sc = Scope.open()) {
            Generator g = new Generator(9);
            for (DType d : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
                Tensor x0 = Tensor.randn(g, 6, 2, 4, 4).to(d);
                Tensor eps = Tensor.randn(g, 6, 2, 4, 4).to(d);
                Tensor t = Tensor.of(ts, 6);
                Tensor ab = s.alphaBar(t, d);
                Tensor xt = q.qSample(x0, t, eps);
                for (Prediction p : Prediction.values()) {
                    Tensor out = p.target(x0, eps, ab);
                    Tensor x0hat = p.toX0(out, xt, ab);
                    Tensor epsHat = p.toEps(out, xt, ab);
                    assertEquals(d, x0hat.dtype());
                    assertEquals(d, epsHat.dtype());
                    if (d == DType.FLOAT64) {
                        assertTrue(x0hat.allClose(x0, 0, 1e-9), p + " x0 round trip");
                        assertTrue(epsHat.allClose(eps, 0, 1e-9), p + " eps round trip");
                    } else {
                        // float32: compare the samples whose division is well conditioned (√ᾱ, √(1−ᾱ) ≥ 0.1)
                        Tensor mid = Tensor.of(new long[] {2, 3}, 2);
                        assertTrue(x0hat.indexSelect(0, mid).allClose(x0.indexSelect(0, mid), 0, 1e-5), p + " x0 round trip f32");
                        assertTrue(epsHat.indexSelect(0, mid).allClose(eps.indexSelect(0, mid), 0, 1e-5), p + " eps round trip f32");
                    }
                }
            }
        }
    }

    @Test
    void vPredictionStaysFiniteAtZeroTerminalSnr() {
        try (Scope sc = Scope.open()) {
            Tensor ab = Tensor.of(new float[] {0f}, 1);
            Tensor x0 = Tensor.of(new float[] {0.3f, -1f}, 1, 2);
            Tensor eps = Tensor.of(new float[] {1.5f, 0.2f}, 1, 2);
            // at ᾱ = 0: x_t = ε and v = −x₀
            Tensor v = Prediction.V.target(x0, eps, ab);
            assertArrayEquals(new float[] {-0.3f, 1f}, v.toFloatArray(), 0f);
            assertArrayEquals(x0.toFloatArray(), Prediction.V.toX0(v, eps, ab).toFloatArray(), 0f);
            assertArrayEquals(eps.toFloatArray(), Prediction.V.toEps(v, eps, ab).toFloatArray(), 0f);
        }
    }

    @Test
    void perSampleAlphaBarBroadcastsAndMismatchesAreRejected() {
        try (Scope sc = Scope.open()) {
            Tensor x = Tensor.ones(3, 2, 2);
            Tensor scalar = Prediction.velocity(x, x, Tensor.of(new float[] {0.25f}, 1));
            // 0.5·1 − √0.75·1
            assertTrue(scalar.allClose(Tensor.full(0.5 - Math.sqrt(0.75), 3, 2, 2), 0, 1e-6));
            Tensor per = Prediction.velocity(x, x, Tensor.of(new float[] {0.25f, 1f, 0f}, 3));
            assertArrayEquals(new float[] {(float) (0.5 - Math.sqrt(0.75)), 1f, -1f},
                    per.select(1, 0).select(1, 0).toFloatArray(), 1e-6f);
            assertThrows(DiffusionException.class, () -> Prediction.velocity(x, x, Tensor.of(new float[] {0.1f, 0.2f}, 2)));
            assertThrows(DiffusionException.class, () -> Prediction.score(x, Tensor.of(new long[] {0, 1, 2}, 3)));
        }
    }

    @Test
    void parseAcceptsConfigNamesAndShortForms() {
        assertEquals(Prediction.EPSILON, Prediction.parse("epsilon"));
        assertEquals(Prediction.EPSILON, Prediction.parse("eps"));
        assertEquals(Prediction.SAMPLE, Prediction.parse("sample"));
        assertEquals(Prediction.SAMPLE, Prediction.parse("X0"));
        assertEquals(Prediction.V, Prediction.parse("v_prediction"));
        assertEquals(Prediction.V, Prediction.parse("v"));
        for (Prediction p : Prediction.values()) {
            assertEquals(p, Prediction.parse(p.configName()));
        }
        DiffusionException e = assertThrows(DiffusionException.class, () -> Prediction.parse("score"));
        assertTrue(e.getMessage().contains("v_prediction"));
        assertThrows(DiffusionException.class, () -> Prediction.parse(null));
    }
}
