package dev.diffusion4j.schedule;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NoiseScheduleTest {

    private static void assertRel(double expected, double actual, double rel, String what) {
        assertEquals(expected, actual, Math.abs(expected) * rel, what);
    }

    /** ᾱ_t by a plain product over the given betas. */
    private static double[] cumprod(double[] betas) {
        double[] out = new double[betas.length];
        double p = 1;
        for (int i = 0; i < betas.length; i++) {
            p *= 1 - betas[i];
            out[i] = p;
        }
        return out;
    }

    @Test
    void linearScheduleTerminalAlphaBarMatchesPlainLoop() {
        NoiseSchedule s = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        double p = 1;
        for (int i = 0; i < 1000; i++) {
            p *= 1 - (1e-4 + (0.02 - 1e-4) * i / 999.0);
        }
        assertRel(p, s.alphasCumprod()[999], 1e-12, "alpha_bar_999");
        assertEquals(4.04e-5, s.alphaBar(999), 0.005e-5);
        // the derived tables follow from ᾱ
        double ab = s.alphaBar(999);
        assertRel(Math.sqrt(ab), s.sqrtAlphasCumprod()[999], 1e-14, "sqrt");
        assertRel(Math.sqrt(1 - ab), s.sqrtOneMinusAlphasCumprod()[999], 1e-14, "sqrt 1-ab");
        assertRel(ab / (1 - ab), s.snr()[999], 1e-14, "snr");
        assertRel(Math.sqrt((1 - ab) / ab), s.sigmas()[999], 1e-14, "sigma");
        assertRel(1 - 1e-4, s.alphas()[0], 1e-15, "alpha_0");
    }

    @Test
    void everyScheduleHasItsClosedFormEndpointsAndDecreasingAlphaBar() {
        int T = 1000;
        double sig6 = 1 / (1 + Math.exp(6));
        double cosFirst = 1 - cosAlphaBar(1.0 / T) / cosAlphaBar(0);
        double expBeta = 1 - Math.exp(-12.0 / T);
        Object[][] cases = {
            {BetaSchedule.LINEAR, 1e-4, 0.02},
            {BetaSchedule.SCALED_LINEAR, 0.00085, 0.012},
            {BetaSchedule.QUADRATIC, 1e-4, 0.02},
            {BetaSchedule.SIGMOID, 1e-4 + (0.02 - 1e-4) * sig6, 1e-4 + (0.02 - 1e-4) * (1 - sig6)},
            {BetaSchedule.COSINE, cosFirst, 0.9999},
            {BetaSchedule.EXPONENTIAL, expBeta, expBeta},
        };
        assertEquals(BetaSchedule.values().length, cases.length);
        for (Object[] c : cases) {
            BetaSchedule b = (BetaSchedule) c[0];
            for (boolean rescale : new boolean[] {false, true}) {
                NoiseSchedule s = new NoiseSchedule(b, T, b.defaultBetaStart(), b.defaultBetaEnd(), rescale);
                double[] betas = s.betas();
                double[] ab = s.alphasCumprod();
                if (!rescale) {
                    assertRel((double) c[1], betas[0], 1e-12, b + " first beta");
                    assertRel((double) c[2], betas[T - 1], 1e-12, b + " last beta");
                    assertArrayEquals(cumprod(betas), ab, 1e-15, b + " alpha_bar is the product of alphas");
                } else {
                    assertEquals(1.0, betas[T - 1], 0.0, b + " zero-SNR last beta");
                }
                for (int t = 0; t < T; t++) {
                    assertTrue(betas[t] > 0 && betas[t] <= 1, b + " beta in (0, 1] at " + t);
                    if (t > 0) {
                        assertTrue(ab[t] < ab[t - 1], b + " alpha_bar strictly decreasing at " + t);
                    }
                }
                double[] sig = s.sigmasForSampling();
                for (int t = 1; t < T; t++) {
                    assertTrue(Double.isFinite(sig[t]) && sig[t] > sig[t - 1], b + " sampling sigmas increasing at " + t + " rescale=" + rescale);
                }
            }
        }
        // interior points of the range schedules
        NoiseSchedule lin = NoiseSchedule.of(BetaSchedule.LINEAR, 5);
        assertArrayEquals(new double[] {1e-4, 0.005075, 0.01005, 0.015025, 0.02}, lin.betas(), 1e-15);
        NoiseSchedule sl = NoiseSchedule.of(BetaSchedule.SCALED_LINEAR, 3);
        double mid = (Math.sqrt(0.00085) + Math.sqrt(0.012)) / 2;
        assertRel(mid * mid, sl.betas()[1], 1e-14, "scaled_linear midpoint");
        NoiseSchedule sg = NoiseSchedule.of(BetaSchedule.SIGMOID, 3);
        assertRel(1e-4 + (0.02 - 1e-4) * 0.5, sg.betas()[1], 1e-14, "sigmoid midpoint");
    }

    private static double cosAlphaBar(double tau) {
        double c = Math.cos((tau + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    @Test
    void cosineMatchesClosedFormAlphaBarBeforeClipping() {
        for (int T : new int[] {1000, 50}) {
            NoiseSchedule s = NoiseSchedule.of(BetaSchedule.COSINE, T);
            double[] ab = s.alphasCumprod();
            double[] betas = s.betas();
            // only the last step reaches the 0.9999 cap (ᾱ(1) = cos²(π/2) ≈ 0)
            assertEquals(0.9999, betas[T - 1], 0.0);
            for (int t = 0; t < T - 1; t++) {
                assertTrue(betas[t] < 0.9999);
                // ᾱ_t = f((t+1)/T)/f(0) (Nichol & Dhariwal 2021, eq. 17)
                assertRel(cosAlphaBar((t + 1.0) / T) / cosAlphaBar(0), ab[t], 1e-11, "cosine alpha_bar at " + t);
            }
            assertRel(ab[T - 2] * 1e-4, ab[T - 1], 1e-9, "clipped last step");
        }
        // exponential: ᾱ_t = exp(−12 (t+1)/T)
        NoiseSchedule e = NoiseSchedule.of(BetaSchedule.EXPONENTIAL, 100);
        for (int t = 0; t < 100; t++) {
            assertRel(Math.exp(-12.0 * (t + 1) / 100), e.alphaBar(t), 1e-12, "exp alpha_bar at " + t);
        }
    }

    @Test
    void zeroTerminalSnrRescaleFollowsLinEtAlAlgorithm1() {
        for (BetaSchedule b : new BetaSchedule[] {BetaSchedule.SCALED_LINEAR, BetaSchedule.LINEAR, BetaSchedule.COSINE}) {
            NoiseSchedule plain = new NoiseSchedule(b, 1000, b.defaultBetaStart(), b.defaultBetaEnd(), false);
            NoiseSchedule zs = new NoiseSchedule(b, 1000, b.defaultBetaStart(), b.defaultBetaEnd(), true);
            double[] ab = plain.alphasCumprod();
            double[] abz = zs.alphasCumprod();
            assertEquals(0.0, abz[999], 0.0, "terminal alpha_bar exactly zero");
            assertEquals(ab[0], abz[0], 0.0, "first alpha_bar unchanged");
            // √ᾱ' = (√ᾱ − √ᾱ_last)·√ᾱ_0/(√ᾱ_0 − √ᾱ_last)
            double a0 = Math.sqrt(ab[0]);
            double aT = Math.sqrt(ab[999]);
            for (int t : new int[] {1, 10, 250, 500, 900, 998}) {
                double expect = (Math.sqrt(ab[t]) - aT) * a0 / (a0 - aT);
                assertRel(expect * expect, abz[t], 1e-10, b + " rescaled alpha_bar at " + t);
            }
            assertArrayEquals(abz, cumprod(zs.betas()), 1e-12, "betas reproduce the rescaled alpha_bar");
            assertEquals(0.0, zs.snr()[999], 0.0);
            assertEquals(Double.POSITIVE_INFINITY, zs.sigmas()[999]);
            assertTrue(Double.isFinite(zs.sigmasForSampling()[999]));
            assertArrayEquals(java.util.Arrays.copyOf(zs.sigmas(), 999), java.util.Arrays.copyOf(zs.sigmasForSampling(), 999), 0.0);
        }
        // scaled_linear stays above 2^−24 at T−2, so the terminal stand-in is ᾱ = 2^−24 (σ ≈ 4096)
        NoiseSchedule sd = new NoiseSchedule(BetaSchedule.SCALED_LINEAR, 1000, 0.00085, 0.012, true);
        assertTrue(sd.alphaBar(998) > 0x1p-24);
        assertRel(Math.sqrt((1 - 0x1p-24) / 0x1p-24), sd.sigmasForSampling()[999], 1e-14, "sigma_max");
        // linear falls below 2^−24 at T−2: the stand-in continues the last geometric step
        NoiseSchedule lin = new NoiseSchedule(BetaSchedule.LINEAR, 1000, 1e-4, 0.02, true);
        assertTrue(lin.alphaBar(998) < 0x1p-24);
        double cont = lin.alphaBar(998) * lin.alphaBar(998) / lin.alphaBar(997);
        assertRel(Math.sqrt((1 - cont) / cont), lin.sigmasForSampling()[999], 1e-12, "continued sigma_max");
        // without rescaling the sampling grid is the plain one
        NoiseSchedule p = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        assertArrayEquals(p.sigmas(), p.sigmasForSampling(), 0.0);
    }

    @Test
    void fractionalTimeAndSigmaConvertBothWays() {
        for (NoiseSchedule s : new NoiseSchedule[] {NoiseSchedule.of(BetaSchedule.LINEAR, 1000),
                new NoiseSchedule(BetaSchedule.SCALED_LINEAR, 1000, 0.00085, 0.012, true), NoiseSchedule.of(BetaSchedule.COSINE, 7)}) {
            int T = s.numTimesteps();
            double[] sig = s.sigmasForSampling();
            try (Scope sc = Scope.open()) {
                double[] ts = {0, 0.5, 1, 2.25, T / 2.0 + 0.125, T - 2, T - 1.5, T - 1};
                Tensor t = Tensor.of(ts, ts.length);
                Tensor sigma = s.tToSigma(t);
                assertEquals(DType.FLOAT64, sigma.dtype());
                assertArrayEquals(ts, s.sigmaToT(sigma).toDoubleArray(), 1e-9, "sigmaToT(tToSigma(t)) == t");
                // at integer t the grid value itself, between grid points the geometric mean at t + 1/2
                double[] out = sigma.toDoubleArray();
                assertRel(sig[0], out[0], 1e-14, "sigma_0");
                assertRel(sig[1], out[2], 1e-14, "sigma_1");
                assertRel(sig[T - 1], out[7], 1e-14, "sigma_max");
                assertRel(Math.sqrt(sig[0] * sig[1]), out[1], 1e-12, "log-midpoint");
                assertRel(Math.exp(0.75 * Math.log(sig[2]) + 0.25 * Math.log(sig[3])), out[3], 1e-12, "t=2.25");
                // float32 inputs give float32 outputs
                Tensor t32 = Tensor.of(new float[] {3.5f, 1.25f}, 2);
                Tensor back = s.sigmaToT(s.tToSigma(t32));
                assertEquals(DType.FLOAT32, back.dtype());
                assertArrayEquals(new float[] {3.5f, 1.25f}, back.toFloatArray(), 1e-4f);
                // clamping outside the grid
                Tensor ext = s.sigmaToT(Tensor.of(new double[] {sig[0] / 10, sig[T - 1] * 10, 0.0, Double.POSITIVE_INFINITY}, 2, 2));
                assertArrayEquals(new long[] {2, 2}, ext.shape());
                assertArrayEquals(new double[] {0, T - 1, 0, T - 1}, ext.toDoubleArray(), 0.0);
                assertArrayEquals(new double[] {sig[0], sig[T - 1]}, s.tToSigma(Tensor.of(new double[] {-3, T + 5}, 2)).toDoubleArray(), 1e-12 * sig[T - 1]);
                // integer timesteps are accepted and give float32
                Tensor ti = s.tToSigma(Tensor.of(new long[] {1}, 1));
                assertEquals(DType.FLOAT32, ti.dtype());
                assertEquals(sig[1], ti.toDoubleArray()[0], 1e-6 * sig[1]);
            }
        }
    }

    @Test
    void alphaBarGatherReturnsFloat32AndRejectsBadIndices() {
        NoiseSchedule s = NoiseSchedule.of(BetaSchedule.SCALED_LINEAR, 1000);
        try (Scope sc = Scope.open()) {
            Tensor ab = s.alphaBar(Tensor.of(new long[] {0, 999, 500}, 3));
            assertEquals(DType.FLOAT32, ab.dtype());
            double[] table = s.alphasCumprod();
            assertArrayEquals(new float[] {(float) table[0], (float) table[999], (float) table[500]}, ab.toFloatArray(), 0f);
            assertArrayEquals(new double[] {table[7]}, s.alphaBar(Tensor.of(new long[] {7}, 1), DType.FLOAT64).toDoubleArray(), 0.0);
            DiffusionException e = assertThrows(DiffusionException.class, () -> s.alphaBar(Tensor.of(new long[] {1000}, 1)));
            assertTrue(e.getMessage().contains("0..999"), e.getMessage());
            assertThrows(DiffusionException.class, () -> s.alphaBar(Tensor.of(new long[] {-1}, 1)));
            assertThrows(DiffusionException.class, () -> s.alphaBar(Tensor.of(new float[] {1f}, 1)));
            assertThrows(DiffusionException.class, () -> s.alphaBar(1000));
        }
    }

    @Test
    void configRoundTripsWithDiffusersKeys() {
        NoiseSchedule s = new NoiseSchedule(BetaSchedule.SCALED_LINEAR, 1000, 0.00085, 0.012, true);
        Map<String, Object> c = s.toConfig();
        assertEquals(1000, c.get("num_train_timesteps"));
        assertEquals("scaled_linear", c.get("beta_schedule"));
        assertEquals(0.00085, c.get("beta_start"));
        assertEquals(0.012, c.get("beta_end"));
        assertEquals(true, c.get("rescale_betas_zero_snr"));
        assertEquals(s, NoiseSchedule.fromConfig(c));
        assertArrayEquals(s.alphasCumprod(), NoiseSchedule.fromConfig(c).alphasCumprod(), 0.0);
        // a diffusers scheduler_config.json as parsed by Jackson: extra keys ignored, alias names accepted
        Map<String, Object> d = new HashMap<>();
        d.put("_class_name", "DDIMScheduler");
        d.put("num_train_timesteps", 1000);
        d.put("beta_schedule", "cosine");
        d.put("prediction_type", "v_prediction");
        NoiseSchedule cos = NoiseSchedule.fromConfig(d);
        assertEquals(BetaSchedule.COSINE, cos.betaSchedule());
        assertEquals("squaredcos_cap_v2", cos.toConfig().get("beta_schedule"));
        assertFalse(cos.rescaleZeroTerminalSnr());
        NoiseSchedule dflt = NoiseSchedule.fromConfig(Map.of());
        assertEquals(NoiseSchedule.of(BetaSchedule.LINEAR, 1000), dflt);
    }

    @Test
    void invalidConfigurationsAreUserErrors() {
        assertThrows(DiffusionException.class, () -> new NoiseSchedule(BetaSchedule.LINEAR, 1, 1e-4, 0.02, false));
        assertThrows(DiffusionException.class, () -> new NoiseSchedule(BetaSchedule.LINEAR, 10, 0.02, 1e-4, false));
        assertThrows(DiffusionException.class, () -> new NoiseSchedule(BetaSchedule.LINEAR, 10, 0.0, 0.02, false));
        assertThrows(DiffusionException.class, () -> new NoiseSchedule(BetaSchedule.LINEAR, 10, 1e-4, 1.0, false));
        assertThrows(DiffusionException.class, () -> new NoiseSchedule(BetaSchedule.SIGMOID, 10, Double.NaN, 0.02, false));
        assertThrows(DiffusionException.class, () -> new NoiseSchedule(BetaSchedule.LINEAR, 10, 1e-30, 1e-30, false));
        // the cosine schedule ignores the β range, so any finite values are accepted
        new NoiseSchedule(BetaSchedule.COSINE, 10, 0.5, 0.1, false);
        Map<String, Object> c = new LinkedHashMap<>(NoiseSchedule.of(BetaSchedule.LINEAR, 10).toConfig());
        c.put("beta_schedule", "warp");
        DiffusionException e = assertThrows(DiffusionException.class, () -> NoiseSchedule.fromConfig(c));
        for (String name : new String[] {"linear", "scaled_linear", "quadratic", "sigmoid", "squaredcos_cap_v2", "exp"}) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        c.put("beta_schedule", "linear");
        c.put("num_train_timesteps", 10.5);
        assertThrows(DiffusionException.class, () -> NoiseSchedule.fromConfig(c));
        c.put("num_train_timesteps", "ten");
        assertThrows(DiffusionException.class, () -> NoiseSchedule.fromConfig(c));
        c.put("num_train_timesteps", 10);
        c.put("rescale_betas_zero_snr", 3);
        assertThrows(DiffusionException.class, () -> NoiseSchedule.fromConfig(c));
    }

    @Test
    void parseAcceptsConfigNamesAndAliases() {
        assertEquals(BetaSchedule.COSINE, BetaSchedule.parse("squaredcos_cap_v2"));
        assertEquals(BetaSchedule.COSINE, BetaSchedule.parse("Cosine"));
        assertEquals(BetaSchedule.EXPONENTIAL, BetaSchedule.parse("exp"));
        assertEquals(BetaSchedule.EXPONENTIAL, BetaSchedule.parse("exponential"));
        assertEquals(BetaSchedule.SCALED_LINEAR, BetaSchedule.parse(" scaled_linear "));
        for (BetaSchedule b : BetaSchedule.values()) {
            assertEquals(b, BetaSchedule.parse(b.configName()));
        }
        assertThrows(DiffusionException.class, () -> BetaSchedule.parse(null));
        assertThrows(DiffusionException.class, () -> BetaSchedule.parse("cos"));
    }
}
