package dev.diffusion4j.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.nn.ConvAttention;
import dev.diffusion4j.objective.DiffusionObjective;
import dev.diffusion4j.objective.LossType;
import dev.diffusion4j.objective.Weighting;
import dev.diffusion4j.process.Prediction;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The seed U-Net against the seed's layer names, shapes and parameter arithmetic, and its attention against loops. */
class SeedUNetTest {

    private static long convNext(long in, long out, Long time, long mult) {
        return (time == null ? 0 : time * in + in) + in * 49 + in + 2 * in + in * out * mult * 9 + out * mult + 2 * out * mult
                + out * mult * out * 9 + out + (in != out ? in * out + out : 0);
    }

    private static long attention(long dim, boolean linear) {
        return dim * 384 + 128 * dim + dim + (linear ? 2 * dim : 0) + 2 * dim;
    }

    @Test
    void keysShapesAndParameterCountAreTheSeeds() {
        SeedUNetConfig cfg = SeedUNetConfig.seed(1, 28);
        assertEquals(java.util.List.of(18, 28, 56, 112), cfg.dims());
        SeedUNet net = cfg.build(new Generator(0));
        Map<String, Tensor> sd = net.stateDict();
        Object[][] expected = {
                {"init_conv.weight", new long[] {18, 1, 7, 7}},
                {"time_mlp.1.weight", new long[] {112, 28}},
                {"time_mlp.3.weight", new long[] {112, 112}},
                {"downs.0.0.mlp.1.weight", new long[] {18, 112}},
                {"downs.0.0.ds_conv.weight", new long[] {18, 1, 7, 7}},
                {"downs.0.0.net.0.weight", new long[] {18}},
                {"downs.0.0.net.1.weight", new long[] {56, 18, 3, 3}},
                {"downs.0.0.net.3.weight", new long[] {56}},
                {"downs.0.0.net.4.weight", new long[] {28, 56, 3, 3}},
                {"downs.0.0.res_conv.weight", new long[] {28, 18, 1, 1}},
                {"downs.0.2.fn.fn.to_qkv.weight", new long[] {384, 28, 1, 1}},
                {"downs.0.2.fn.fn.to_out.0.weight", new long[] {28, 128, 1, 1}},
                {"downs.0.2.fn.fn.to_out.1.weight", new long[] {28}},
                {"downs.0.2.fn.norm.weight", new long[] {28}},
                {"downs.0.3.weight", new long[] {28, 28, 4, 4}},
                {"downs.2.1.net.4.weight", new long[] {112, 224, 3, 3}},
                {"mid_attn.fn.fn.to_out.weight", new long[] {112, 128, 1, 1}},
                {"ups.0.0.ds_conv.weight", new long[] {224, 1, 7, 7}},
                {"ups.0.0.res_conv.weight", new long[] {56, 224, 1, 1}},
                {"ups.0.3.weight", new long[] {56, 56, 4, 4}},
                {"ups.1.3.weight", new long[] {28, 28, 4, 4}},
                {"final_conv.0.ds_conv.weight", new long[] {28, 1, 7, 7}},
                {"final_conv.1.weight", new long[] {1, 28, 1, 1}},
        };
        for (Object[] e : expected) {
            assertTrue(sd.containsKey((String) e[0]), "missing " + e[0]);
            assertArrayEquals((long[]) e[1], sd.get((String) e[0]).shape(), (String) e[0]);
        }
        assertFalse(sd.containsKey("downs.2.3.weight"), "the coarsest level does not downsample");
        assertFalse(sd.containsKey("final_conv.0.mlp.1.weight"), "the final block takes no timestep");
        assertFalse(sd.containsKey("ups.2.0.ds_conv.weight"), "one up level fewer than down levels");

        long t = 112;
        long expectedCount = 18 * 49 + 18 + 28 * 112 + 112 + 112 * 112 + 112
                + convNext(18, 28, t, 2) + convNext(28, 28, t, 2) + attention(28, true) + 28 * 28 * 16 + 28
                + convNext(28, 56, t, 2) + convNext(56, 56, t, 2) + attention(56, true) + 56 * 56 * 16 + 56
                + convNext(56, 112, t, 2) + convNext(112, 112, t, 2) + attention(112, true)
                + 2 * convNext(112, 112, t, 2) + attention(112, false)
                + convNext(224, 56, t, 2) + convNext(56, 56, t, 2) + attention(56, true) + 56 * 56 * 16 + 56
                + convNext(112, 28, t, 2) + convNext(28, 28, t, 2) + attention(28, true) + 28 * 28 * 16 + 28
                + convNext(28, 28, null, 2) + 28 + 1;
        assertEquals(expectedCount, net.parameterCount());
    }

    @Test
    void shapeIsKeptAndConfigRoundTrips() {
        SeedUNetConfig cfg = SeedUNetConfig.seed(3, 32);
        try (Scope s = Scope.open()) {
            Tensor out = cfg.build(new Generator(1)).predict(Tensor.randn(new Generator(2), 2, 3, 32, 32), Tensor.of(new float[] {3, 150}, 2));
            assertArrayEquals(new long[] {2, 3, 32, 32}, out.shape());
            assertTrue(out.allFinite());
        }
        assertEquals(cfg, NetworkConfig.fromConfig(cfg.toConfig()));
        assertThrows(dev.diffusion4j.DiffusionException.class, () -> SeedUNetConfig.seed(1, 30));
    }

    /** out = GroupNorm₁(W_o·o + b_o) with o_e(n) = Σ_d (Σ_m softmax_n(k)_d(m) v_e(m)) · softmax_d(q)(n)_d / √D, per head. */
    @Test
    void linearAndFullAttentionMatchLoops() {
        int dim = 6;
        int heads = 2;
        int hd = 4;
        int n = 5;   // 1×5 pixels
        Generator g = new Generator(4);
        for (boolean linear : new boolean[] {true, false}) {
            ConvAttention attn = new ConvAttention(dim, heads, hd, linear, g);
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(g, 1, dim, 1, n);
                double[] got = attn.forward(x).to(DType.FLOAT64).toDoubleArray();
                Map<String, Tensor> sd = attn.stateDict();
                double[] wqkv = sd.get("to_qkv.weight").to(DType.FLOAT64).toDoubleArray();
                String out = linear ? "to_out.0." : "to_out.";
                double[] wo = sd.get(out + "weight").to(DType.FLOAT64).toDoubleArray();
                double[] bo = sd.get(out + "bias").to(DType.FLOAT64).toDoubleArray();
                double[] xv = x.to(DType.FLOAT64).toDoubleArray();
                int hidden = heads * hd;
                double[][] proj = new double[3 * hidden][n];
                for (int o = 0; o < 3 * hidden; o++) {
                    for (int p = 0; p < n; p++) {
                        for (int c = 0; c < dim; c++) {
                            proj[o][p] += wqkv[o * dim + c] * xv[c * n + p];
                        }
                    }
                }
                double[][] o = new double[hidden][n];
                for (int h = 0; h < heads; h++) {
                    double[][] q = new double[hd][n];
                    double[][] k = new double[hd][n];
                    double[][] v = new double[hd][n];
                    for (int d = 0; d < hd; d++) {
                        q[d] = proj[h * hd + d].clone();
                        k[d] = proj[hidden + h * hd + d].clone();
                        v[d] = proj[2 * hidden + h * hd + d].clone();
                    }
                    if (linear) {
                        for (int p = 0; p < n; p++) {           // softmax of q over channels
                            double z = 0;
                            for (int d = 0; d < hd; d++) {
                                z += Math.exp(q[d][p]);
                            }
                            for (int d = 0; d < hd; d++) {
                                q[d][p] = Math.exp(q[d][p]) / z / Math.sqrt(hd);
                            }
                        }
                        for (int d = 0; d < hd; d++) {          // softmax of k over pixels
                            double z = 0;
                            for (int p = 0; p < n; p++) {
                                z += Math.exp(k[d][p]);
                            }
                            for (int p = 0; p < n; p++) {
                                k[d][p] = Math.exp(k[d][p]) / z;
                            }
                        }
                        for (int e = 0; e < hd; e++) {
                            for (int p = 0; p < n; p++) {
                                double sum = 0;
                                for (int d = 0; d < hd; d++) {
                                    double ctx = 0;
                                    for (int m = 0; m < n; m++) {
                                        ctx += k[d][m] * v[e][m];
                                    }
                                    sum += ctx * q[d][p];
                                }
                                o[h * hd + e][p] = sum;
                            }
                        }
                    } else {
                        for (int i = 0; i < n; i++) {
                            double[] w = new double[n];
                            double z = 0;
                            for (int j = 0; j < n; j++) {
                                double dot = 0;
                                for (int d = 0; d < hd; d++) {
                                    dot += q[d][i] * k[d][j];
                                }
                                w[j] = Math.exp(dot / Math.sqrt(hd));
                                z += w[j];
                            }
                            for (int e = 0; e < hd; e++) {
                                double sum = 0;
                                for (int j = 0; j < n; j++) {
                                    sum += w[j] / z * v[e][j];
                                }
                                o[h * hd + e][i] = sum;
                            }
                        }
                    }
                }
                double[] expected = new double[dim * n];
                for (int c = 0; c < dim; c++) {
                    for (int p = 0; p < n; p++) {
                        double sum = bo[c];
                        for (int e = 0; e < hidden; e++) {
                            sum += wo[c * hidden + e] * o[e][p];
                        }
                        expected[c * n + p] = sum;
                    }
                }
                if (linear) {                                   // GroupNorm(1), initial affine = identity
                    double mean = java.util.Arrays.stream(expected).average().orElseThrow();
                    double var = java.util.Arrays.stream(expected).map(v -> (v - mean) * (v - mean)).average().orElseThrow();
                    for (int i = 0; i < expected.length; i++) {
                        expected[i] = (expected[i] - mean) / Math.sqrt(var + 1e-5);
                    }
                }
                assertArrayEquals(expected, got, 1e-4, linear ? "linear attention" : "full attention");
            }
        }
    }

    @Test
    void gradientsReachEveryParameterAndTrainingFitsABatch() {
        SeedUNetConfig cfg = new SeedUNetConfig(8, 1, 12, java.util.List.of(1, 2), 2, 2, 8);
        Generator g = new Generator(5);
        UNet2DModelTest.assertGradientsReachEveryParameterAndLossHalves(cfg.build(g), new DiffusionObjective(
                NoiseSchedule.of(BetaSchedule.LINEAR, 200), Prediction.EPSILON, LossType.HUBER, Weighting.NONE), 200, 40, g);
    }
}
