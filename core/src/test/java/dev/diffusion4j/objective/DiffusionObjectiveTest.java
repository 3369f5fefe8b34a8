package dev.diffusion4j.objective;

import dev.diffusion4j.model.NoisePredictor;
import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiffusionObjectiveTest {
    private static final NoiseSchedule SCHEDULE = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);

    private static double[] alphaBar(NoiseSchedule s) {
        double[] b = s.betas();
        double[] out = new double[b.length];
        double p = 1;
        for (int i = 0; i < b.length; i++) {
            p *= 1 - b[i];
            out[i] = p;
        }
        return out;
    }

    /** The regression target of {@code p}, written out element by element in double precision. */
    private static double[] target(Prediction p, double[] x0, double[] eps, long[] t, double[] ab) {
        int per = x0.length / t.length;
        double[] out = new double[x0.length];
        for (int i = 0; i < out.length; i++) {
            double a = ab[(int) t[i / per]];
            switch (p) {
                case EPSILON: out[i] = eps[i]; break;
                case SAMPLE: out[i] = x0[i]; break;
                default: out[i] = Math.sqrt(a) * eps[i] - Math.sqrt(1 - a) * x0[i];
            }
        }
        return out;
    }

    @Test
    void exactTargetGivesZeroLossAndNetworkSeesFloatTimesteps() {
        double[] ab = alphaBar(SCHEDULE);
        long[] ts = {0, 321, 999};
        try (Scope sc = Scope.open()) {
            Generator g = new Generator(1);
            Tensor x0 = Tensor.randn(g, 3, 2, 5).to(DType.FLOAT64);
            Tensor eps = Tensor.randn(g, 3, 2, 5).to(DType.FLOAT64);
            for (Prediction p : Prediction.values()) {
                double[] tgt = target(p, x0.toDoubleArray(), eps.toDoubleArray(), ts, ab);
                for (LossType l : LossType.values()) {
                    for (Weighting w : Weighting.values()) {
                        DiffusionObjective obj = new DiffusionObjective(SCHEDULE, p, l, w);
                        NoisePredictor exact = (xt, t) -> {
                            assertEquals(DType.FLOAT32, t.dtype());
                            assertArrayEquals(new float[] {0f, 321f, 999f}, t.toFloatArray(), 0f);
                            return Tensor.of(tgt, 3, 2, 5);
                        };
                        double loss = obj.loss(exact, x0, Tensor.of(ts, 3), eps).item();
                        assertEquals(0.0, loss, 1e-12, p + " " + l + " " + w);
                    }
                }
                // float32 data: zero up to float32 rounding of the target
                DiffusionObjective obj = new DiffusionObjective(SCHEDULE, p, LossType.L2, Weighting.NONE);
                double loss32 = obj.loss((xt, t) -> Tensor.of(tgt, 3, 2, 5).to(DType.FLOAT32), x0.to(DType.FLOAT32), Tensor.of(ts, 3),
                        eps.to(DType.FLOAT32)).item();
                assertEquals(0.0, loss32, 1e-12, p + " float32");
            }
        }
    }

    @Test
    void knownResidualsGiveHandComputedLosses() {
        // residuals r: sample 0 = (0.5, −2, 0.1, 3), sample 1 = 2·r₀ = (1, −4, 0.2, 6)
        // L2: (0.25+4+0.01+9)/4 = 3.315 and (1+16+0.04+36)/4 = 13.26
        // L1: (0.5+2+0.1+3)/4 = 1.4 and 2.8
        // Huber δ=1: (0.125 + 1.5 + 0.005 + 2.5)/4 = 1.0325 and (0.5 + 3.5 + 0.02 + 5.5)/4 = 2.38
        // Huber δ=2.5: (0.125 + 2 + 0.005 + 4.375)/4 = 1.62625 and (0.5 + 6.875 + 0.02 + 11.875)/4 = 4.8175
        double[] r = {0.5, -2, 0.1, 3, 1, -4, 0.2, 6};
        Object[][] cases = {
            {LossType.L2, 1.0, 3.315, 13.26},
            {LossType.L1, 1.0, 1.4, 2.8},
            {LossType.HUBER, 1.0, 1.0325, 2.38},
            {LossType.HUBER, 2.5, 1.62625, 4.8175},
        };
        double[] ab = alphaBar(SCHEDULE);
        long[] ts = {20, 700};
        try (Scope sc = Scope.open()) {
            Generator g = new Generator(4);
            Tensor x0 = Tensor.randn(g, 2, 4).to(DType.FLOAT64);
            Tensor eps = Tensor.randn(g, 2, 4).to(DType.FLOAT64);
            for (Prediction p : Prediction.values()) {
                double[] tgt = target(p, x0.toDoubleArray(), eps.toDoubleArray(), ts, ab);
                double[] wrong = new double[8];
                for (int i = 0; i < 8; i++) {
                    wrong[i] = tgt[i] + r[i];
                }
                NoisePredictor net = (xt, t) -> Tensor.of(wrong, 2, 4);
                for (Object[] c : cases) {
                    LossType l = (LossType) c[0];
                    double delta = (double) c[1];
                    double l0 = (double) c[2];
                    double l1 = (double) c[3];
                    double plain = new DiffusionObjective(SCHEDULE, p, l, delta, Weighting.NONE, 5).loss(net, x0, Tensor.of(ts, 2), eps).item();
                    assertEquals((l0 + l1) / 2, plain, 1e-12, p + " " + l + " delta " + delta);
                    double w0 = minSnr(p, ab[20] / (1 - ab[20]), 5);
                    double w1 = minSnr(p, ab[700] / (1 - ab[700]), 5);
                    double weighted = new DiffusionObjective(SCHEDULE, p, l, delta, Weighting.MIN_SNR, 5).loss(net, x0, Tensor.of(ts, 2), eps).item();
                    assertEquals((w0 * l0 + w1 * l1) / 2, weighted, 1e-12, p + " " + l + " min-snr");
                }
            }
        }
    }

    private static double minSnr(Prediction p, double snr, double gamma) {
        double m = Math.min(snr, gamma);
        return p == Prediction.EPSILON ? m / snr : p == Prediction.V ? m / (snr + 1) : m;
    }

    @Test
    void minSnrWeightsFollowTheClosedFormForEveryTimestep() {
        double[] ab = alphaBar(SCHEDULE);
        try (Scope sc = Scope.open()) {
            Tensor all = Tensor.arange(1000);
            for (Prediction p : Prediction.values()) {
                for (double gamma : new double[] {5.0, 1.0}) {
                    DiffusionObjective obj = new DiffusionObjective(SCHEDULE, p, LossType.L2, 1.0, Weighting.MIN_SNR, gamma);
                    double[] table = obj.weightTable();
                    float[] gathered = obj.weights(all).toFloatArray();
                    for (int t = 0; t < 1000; t++) {
                        double expect = minSnr(p, ab[t] / (1 - ab[t]), gamma);
                        assertEquals(expect, table[t], 1e-12 * expect, p + " gamma " + gamma + " t " + t);
                        assertEquals(expect, gathered[t], 1e-6 * expect);
                    }
                }
                // high-SNR steps are capped, low-SNR steps keep full weight in ε-space
                DiffusionObjective obj = new DiffusionObjective(SCHEDULE, p, LossType.L2, Weighting.MIN_SNR);
                if (p == Prediction.EPSILON) {
                    assertEquals(1.0, obj.weightTable()[999], 0.0);
                    assertEquals(5.0 * (1 - ab[0]) / ab[0], obj.weightTable()[0], 1e-12);
                }
                DiffusionObjective none = new DiffusionObjective(SCHEDULE, p, LossType.L2, Weighting.NONE);
                for (double w : none.weightTable()) {
                    assertEquals(1.0, w, 0.0);
                }
            }
            // zero terminal SNR: the ε weight takes its limit 1, v and x₀ weights vanish
            NoiseSchedule zs = new NoiseSchedule(BetaSchedule.SCALED_LINEAR, 1000, 0.00085, 0.012, true);
            assertEquals(1.0, new DiffusionObjective(zs, Prediction.EPSILON, LossType.L2, Weighting.MIN_SNR).weightTable()[999], 0.0);
            assertEquals(0.0, new DiffusionObjective(zs, Prediction.V, LossType.L2, Weighting.MIN_SNR).weightTable()[999], 0.0);
            assertEquals(0.0, new DiffusionObjective(zs, Prediction.SAMPLE, LossType.L2, Weighting.MIN_SNR).weightTable()[999], 0.0);
        }
    }

    @Test
    void gradientsReachTheNetworkParameters() {
        // f(x_t) = x_t·Wᵀ + b with L2 on ε: dL/dW = 2/(B·D)·(f − ε)ᵀ x_t, dL/db = 2/(B·D)·Σ_b (f − ε)
        int B = 4;
        int D = 3;
        double[] ab = alphaBar(SCHEDULE);
        long[] ts = {5, 100, 600, 950};
        Tensor w = Tensor.of(new float[] {0.5f, -0.2f, 0.1f, 0.3f, 0.8f, -0.4f, 0f, 0.25f, 1f}, D, D).requiresGrad_(true);
        Tensor b = Tensor.of(new float[] {0.1f, -0.1f, 0.05f}, D).requiresGrad_(true);
        try (Scope sc = Scope.open()) {
            Generator g = new Generator(8);
            Tensor x0 = Tensor.randn(g, B, D);
            Tensor eps = Tensor.randn(g, B, D);
            DiffusionObjective obj = new DiffusionObjective(SCHEDULE, Prediction.EPSILON, LossType.L2, Weighting.NONE);
            Tensor loss = obj.loss((xt, t) -> xt.linear(w, b), x0, Tensor.of(ts, B), eps);
            assertTrue(loss.requiresGrad());
            loss.backward();
            assertNotNull(w.grad());
            assertNotNull(b.grad());

            double[] x = x0.toDoubleArray();
            double[] e = eps.toDoubleArray();
            double[] wv = w.toDoubleArray();
            double[] bv = b.toDoubleArray();
            double[] gw = new double[D * D];
            double[] gb = new double[D];
            double lossExpected = 0;
            for (int s = 0; s < B; s++) {
                double a = ab[(int) ts[s]];
                double[] xt = new double[D];
                for (int i = 0; i < D; i++) {
                    xt[i] = Math.sqrt(a) * x[s * D + i] + Math.sqrt(1 - a) * e[s * D + i];
                }
                for (int o = 0; o < D; o++) {
                    double f = bv[o];
                    for (int i = 0; i < D; i++) {
                        f += wv[o * D + i] * xt[i];
                    }
                    double res = f - e[s * D + o];
                    lossExpected += res * res / (B * D);
                    gb[o] += 2 * res / (B * D);
                    for (int i = 0; i < D; i++) {
                        gw[o * D + i] += 2 * res * xt[i] / (B * D);
                    }
                }
            }
            assertEquals(lossExpected, loss.item(), 1e-5);
            assertArrayEquals(gw, w.grad().toDoubleArray(), 1e-5);
            assertArrayEquals(gb, b.grad().toDoubleArray(), 1e-5);
        }
    }

    @Test
    void randomOverloadDrawsTimestepsThenNoiseFromTheGenerator() {
        DiffusionObjective obj = new DiffusionObjective(SCHEDULE, Prediction.V, LossType.HUBER, Weighting.MIN_SNR);
        List<float[]> seen = new ArrayList<>();
        NoisePredictor net = (xt, t) -> {
            seen.add(t.toFloatArray());
            return xt.mul(0.5);
        };
        try (Scope sc = Scope.open()) {
            Tensor x0 = Tensor.randn(new Generator(0), 64, 2);
            double a = obj.loss(net, x0, new Generator(77)).item();
            double again = obj.loss(net, x0, new Generator(77)).item();
            assertEquals(a, again, 0.0, "same seed, same loss");
            assertArrayEquals(seen.get(0), seen.get(1), 0f);
            for (float t : seen.get(0)) {
                assertTrue(t >= 0 && t <= 999 && t == Math.rint(t), "timestep " + t);
            }
            Generator replay = new Generator(77);
            Tensor t = Tensor.randint(replay, 1000, new long[] {64});
            Tensor eps = Tensor.randn(replay, 64, 2);
            assertEquals(a, obj.loss(net, x0, t, eps).item(), 0.0, "documented draw order");
            assertNotEquals(a, obj.loss(net, x0, new Generator(78)).item());
        }
    }

    @Test
    void userErrorsAreReported() {
        assertThrows(DiffusionException.class, () -> new DiffusionObjective(SCHEDULE, Prediction.EPSILON, LossType.HUBER, 0.0, Weighting.NONE, 5));
        assertThrows(DiffusionException.class, () -> new DiffusionObjective(SCHEDULE, Prediction.EPSILON, LossType.L2, 1.0, Weighting.MIN_SNR, -1));
        DiffusionObjective obj = new DiffusionObjective(SCHEDULE, Prediction.EPSILON, LossType.L2, Weighting.NONE);
        try (Scope sc = Scope.open()) {
            Tensor x0 = Tensor.zeros(2, 3);
            DiffusionException e = assertThrows(DiffusionException.class,
                    () -> obj.loss((xt, t) -> Tensor.zeros(2, 4), x0, new Generator(1)));
            assertTrue(e.getMessage().contains("[2, 4]"), e.getMessage());
            assertThrows(DiffusionException.class, () -> obj.loss((xt, t) -> xt, x0, Tensor.of(new long[] {1}, 1), Tensor.zeros(2, 3)));
            assertThrows(DiffusionException.class, () -> obj.loss((xt, t) -> xt, x0, Tensor.of(new long[] {1, 1000}, 2), Tensor.zeros(2, 3)));
            assertThrows(DiffusionException.class, () -> obj.loss((xt, t) -> xt, Tensor.zeros(0, 3), new Generator(1)));
        }
        assertEquals(LossType.L2, LossType.parse("MSE"));
        assertEquals(LossType.HUBER, LossType.parse("huber"));
        assertEquals(LossType.L1, LossType.parse("l1"));
        assertThrows(DiffusionException.class, () -> LossType.parse("l3"));
        assertEquals(Weighting.MIN_SNR, Weighting.parse("min-snr"));
        assertEquals(Weighting.NONE, Weighting.parse("none"));
        assertThrows(DiffusionException.class, () -> Weighting.parse("p2"));
    }
}
