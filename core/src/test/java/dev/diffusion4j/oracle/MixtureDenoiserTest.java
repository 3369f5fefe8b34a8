package dev.diffusion4j.oracle;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class MixtureDenoiserTest {

    /** A 3-D mixture with unequal weights, diagonal (non-isotropic) variances and a non-zero mean. */
    private static final double[][] MEANS3 = {{0, 0, 0}, {2, -1, 0.5}, {-1.5, 1, 2}, {0.5, 2.5, -1}};
    private static final double[][] VARS3 = {{0.25, 0.25, 0.25}, {0.04, 0.5, 0.1}, {0.3, 0.02, 0.2}, {0.1, 0.1, 0.6}};
    private static final double[] WEIGHTS3 = {0.1, 0.2, 0.3, 0.4};

    private static MixtureDenoiser diag3() {
        return MixtureDenoiser.diagonal(MEANS3, VARS3, WEIGHTS3);
    }

    /** The same means and weights with isotropic components of unequal variances (the matrix-product path). */
    private static MixtureDenoiser iso3() {
        return MixtureDenoiser.diagonalStds(MEANS3, new double[][] {{0.5, 0.5, 0.5}, {0.2, 0.2, 0.2}, {0.4, 0.4, 0.4}, {0.3, 0.3, 0.3}},
                WEIGHTS3);
    }

    private static MixtureDenoiser eight() {
        return MixtureDenoiser.of(Toy2D.EIGHT_GAUSSIANS.mixture().orElseThrow());
    }

    // ------------------------------------------------------------------ an independent double-precision reference

    /** log N(x; μ, diag v) + log w for every component, written out coordinate by coordinate. */
    private static double[] logJoint(MixtureDenoiser m, double[] x, double sigma) {
        double[][] mu = m.means();
        double[][] var = m.variances();
        double[] w = m.weights();
        double[] out = new double[mu.length];
        for (int k = 0; k < mu.length; k++) {
            double l = Math.log(w[k]);
            for (int j = 0; j < x.length; j++) {
                double v = var[k][j] + sigma * sigma;
                double e = x[j] - mu[k][j];
                l += -0.5 * Math.log(2 * Math.PI * v) - e * e / (2 * v);
            }
            out[k] = l;
        }
        return out;
    }

    private static double logSumExp(double[] a) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : a) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (double v : a) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s);
    }

    private static double refLogDensity(MixtureDenoiser m, double[] x, double sigma) {
        return logSumExp(logJoint(m, x, sigma));
    }

    /** Σₖ rₖ(μₖ + sₖ²/(sₖ²+σ²)(x − μₖ)), responsibilities normalised in log space. */
    private static double[] refDenoise(MixtureDenoiser m, double[] x, double sigma) {
        double[] l = logJoint(m, x, sigma);
        double z = logSumExp(l);
        double[][] mu = m.means();
        double[][] var = m.variances();
        double[] d = new double[x.length];
        for (int k = 0; k < mu.length; k++) {
            double r = Math.exp(l[k] - z);
            for (int j = 0; j < x.length; j++) {
                d[j] += r * (mu[k][j] + var[k][j] / (var[k][j] + sigma * sigma) * (x[j] - mu[k][j]));
            }
        }
        return d;
    }

    // ------------------------------------------------------------------ helpers

    private static Tensor rows(double[][] x) {
        int d = x[0].length;
        double[] flat = new double[x.length * d];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, flat, i * d, d);
        }
        return Tensor.of(flat, x.length, d);
    }

    private static double[][] toRows(Tensor t, int d) {
        double[] flat = t.toDoubleArray();
        double[][] out = new double[flat.length / d][d];
        for (int i = 0; i < out.length; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }

    private static Tensor sigma(double s) {
        return Tensor.of(new double[] {s}, 1);
    }

    /** n standard-normal rows of dimension d, scaled, from a seeded generator. */
    private static double[][] gaussianRows(long seed, int n, int d, double scale) {
        return toRows(Tensor.randn(new Generator(seed), n, d).to(DType.FLOAT64).mul(scale), d);
    }

    private static double maxAbsDiff(double[] a, double[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    // ------------------------------------------------------------------ tests

    @Test
    void singleGaussianIsTheLinearShrinkageTowardsItsMean() {
        double[] mu = {1, -2, 0.5};
        MixtureDenoiser iso = MixtureDenoiser.diagonal(new double[][] {mu}, new double[][] {{0.49, 0.49, 0.49}}, null);
        double[] var = {0.04, 1, 2.5};
        MixtureDenoiser diag = MixtureDenoiser.diagonal(new double[][] {mu}, new double[][] {var}, new double[] {1});
        assertTrue(iso.isotropic());
        assertFalse(diag.isotropic());
        try (Scope s = Scope.open()) {
            double[][] x = gaussianRows(1, 64, 3, 3);
            for (MixtureDenoiser m : new MixtureDenoiser[] {iso, diag}) {
                double[][] v = m.variances();
                for (double sg : new double[] {0.01, 0.3, 1, 5, 80}) {
                    double[] got = m.denoise(rows(x), sigma(sg)).toDoubleArray();
                    float[] got32 = m.denoise(rows(x).to(DType.FLOAT32), sigma(sg).to(DType.FLOAT32)).toFloatArray();
                    double worst = 0;
                    double worst32 = 0;
                    for (int i = 0; i < x.length; i++) {
                        for (int j = 0; j < 3; j++) {
                            // D = μ + s²/(s²+σ²)·(x − μ) (Karras et al. 2022, eq. 3 with p = N(μ, s²))
                            double expected = mu[j] + v[0][j] / (v[0][j] + sg * sg) * (x[i][j] - mu[j]);
                            worst = Math.max(worst, Math.abs(got[i * 3 + j] - expected));
                            double x32 = (float) x[i][j];
                            double expected32 = mu[j] + v[0][j] / (v[0][j] + sg * sg) * (x32 - mu[j]);
                            worst32 = Math.max(worst32, Math.abs(got32[i * 3 + j] - expected32) / Math.max(1, Math.abs(expected32)));
                        }
                    }
                    assertTrue(worst < 1e-12, m + " sigma " + sg + ": float64 error " + worst);
                    assertTrue(worst32 < 1e-6, m + " sigma " + sg + ": float32 relative error " + worst32);
                }
            }
        }
    }

    @Test
    void mixtureDenoiserLogDensityAndScoreMatchADirectDoubleEvaluation() {
        try (Scope s = Scope.open()) {
            // The last one mixes a point mass with a Gaussian.
            MixtureDenoiser mixed = MixtureDenoiser.diagonalStds(new double[][] {{0, 0}, {1, 1}}, new double[][] {{0, 0}, {0.5, 0.5}},
                    new double[] {0.6, 0.4});
            for (MixtureDenoiser m : new MixtureDenoiser[] {diag3(), iso3(), eight(), mixed}) {
                int d = m.dim();
                double[][] x = gaussianRows(2, 40, d, 2);
                for (double sg : new double[] {0.05, 0.3, 1, 4}) {
                    double[] got = m.denoise(rows(x), sigma(sg)).toDoubleArray();
                    double[] logp = m.logDensity(rows(x), sg).toDoubleArray();
                    double[] score = m.score(rows(x), sg).toDoubleArray();
                    assertEquals(x.length, logp.length);
                    for (int i = 0; i < x.length; i++) {
                        double[] ref = refDenoise(m, x[i], sg);
                        for (int j = 0; j < d; j++) {
                            assertEquals(ref[j], got[i * d + j], 1e-9, m + " D, sigma " + sg + ", row " + i);
                            // Tweedie: ∇ log p_σ = (D − x)/σ²
                            double tweedie = (ref[j] - x[i][j]) / (sg * sg);
                            assertEquals(tweedie, score[i * d + j], 1e-8 * Math.max(1, Math.abs(tweedie)), m + " score, sigma " + sg);
                        }
                        double refLog = refLogDensity(m, x[i], sg);
                        assertEquals(refLog, logp[i], 1e-9 * Math.max(1, Math.abs(refLog)), m + " log density, sigma " + sg);
                    }
                }
            }
        }
    }

    /**
     * E[x₀ | x] by self-normalised importance sampling: exact draws x₀ⁱ weighted by the likelihood
     * N(x; x₀ⁱ, σ²I). The estimate's standard error is √(Σ wᵢ²(x₀ⁱ − est)²)/Σ wᵢ; the oracle must lie
     * within 5 of them, and the standard error must be small enough for the comparison to matter.
     */
    @Test
    void denoiserAgreesWithImportanceWeightedMonteCarlo() {
        int n = 200_000;
        for (MixtureDenoiser m : new MixtureDenoiser[] {diag3(), iso3(), eight()}) {
            try (Scope s = Scope.open()) {
                int d = m.dim();
                Generator g = new Generator(3);
                double[][] x0 = toRows(m.sample(g, n), d);
                for (double sg : new double[] {0.3, 1, 3}) {
                    // Query points distributed as the noisy data itself: x = x₀ + σ·noise.
                    double[][] x = toRows(m.sample(g, 4).to(DType.FLOAT64).add(Tensor.randn(g, 4, d).to(DType.FLOAT64).mul(sg)), d);
                    double[] oracle = m.denoise(rows(x), sigma(sg)).toDoubleArray();
                    for (int q = 0; q < x.length; q++) {
                        double[] logw = new double[n];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int i = 0; i < n; i++) {
                            double e2 = 0;
                            for (int j = 0; j < d; j++) {
                                double e = x[q][j] - x0[i][j];
                                e2 += e * e;
                            }
                            logw[i] = -e2 / (2 * sg * sg);
                            max = Math.max(max, logw[i]);
                        }
                        double sw = 0;
                        double[] est = new double[d];
                        double[] w = new double[n];
                        for (int i = 0; i < n; i++) {
                            w[i] = Math.exp(logw[i] - max);
                            sw += w[i];
                            for (int j = 0; j < d; j++) {
                                est[j] += w[i] * x0[i][j];
                            }
                        }
                        for (int j = 0; j < d; j++) {
                            est[j] /= sw;
                            double var = 0;
                            for (int i = 0; i < n; i++) {
                                double e = x0[i][j] - est[j];
                                var += w[i] * w[i] * e * e;
                            }
                            double se = Math.sqrt(var) / sw;
                            assertTrue(se < 0.02, m + " sigma " + sg + ": Monte-Carlo standard error " + se + " too large to test");
                            assertEquals(est[j], oracle[q * d + j], 5 * se + 1e-4,
                                    m + " sigma " + sg + " query " + q + " coordinate " + j + " (se " + se + ")");
                        }
                    }
                }
            }
        }
    }

    /** ∫ p_σ = 1 by a Riemann sum on a fine grid: catches a wrong normalising constant a copied formula would share. */
    @Test
    void densityIntegratesToOne() {
        MixtureDenoiser m = eight();
        int n = 321;
        double lo = -4;
        double h = 8.0 / (n - 1);
        double[] grid = new double[n * n * 2];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                grid[2 * (i * n + j)] = lo + i * h;
                grid[2 * (i * n + j) + 1] = lo + j * h;
            }
        }
        try (Scope s = Scope.open()) {
            double integral = m.logDensity(Tensor.of(grid, (long) n * n, 2), 0.3).exp().sum().item() * h * h;
            assertEquals(1.0, integral, 1e-4);
        }
    }

    @Test
    void scoreIsTheGradientOfTheLogDensity() {
        double[][] pts = gaussianRows(9, 6, 3, 1.5);
        MixtureDenoiser points = MixtureDenoiser.points(pts);
        try (Scope s = Scope.open()) {
            for (MixtureDenoiser m : new MixtureDenoiser[] {diag3(), iso3(), eight(), points}) {
                int d = m.dim();
                double[][] x = gaussianRows(4, 10, d, 1.5);
                for (double sg : new double[] {0.2, 0.7, 2.5}) {
                    double[] score = m.score(rows(x), sg).toDoubleArray();
                    double h = 1e-4;
                    for (int i = 0; i < x.length; i++) {
                        double[] fd = new double[d];
                        double[][] plusMinus = new double[2 * d][];
                        for (int j = 0; j < d; j++) {
                            plusMinus[2 * j] = x[i].clone();
                            plusMinus[2 * j][j] += h;
                            plusMinus[2 * j + 1] = x[i].clone();
                            plusMinus[2 * j + 1][j] -= h;
                        }
                        double[] lp = m.logDensity(rows(plusMinus), sg).toDoubleArray();
                        double err = 0;
                        double norm = 0;
                        for (int j = 0; j < d; j++) {
                            fd[j] = (lp[2 * j] - lp[2 * j + 1]) / (2 * h);   // central difference, O(h²)
                            err += Math.pow(score[i * d + j] - fd[j], 2);
                            norm += fd[j] * fd[j];
                        }
                        assertTrue(Math.sqrt(err) < 1e-3 * Math.sqrt(norm),
                                m + " sigma " + sg + " row " + i + ": relative error " + Math.sqrt(err / norm));
                    }
                }
            }
        }
    }

    @Test
    void smallNoiseKeepsTheInputAndHugeNoiseReturnsTheDataMean() {
        try (Scope s = Scope.open()) {
            for (MixtureDenoiser m : new MixtureDenoiser[] {diag3(), iso3(), eight()}) {
                int d = m.dim();
                Generator g = new Generator(5);
                double[] x = m.sample(g, 50).to(DType.FLOAT64).toDoubleArray();
                Tensor xt = Tensor.of(x, 50, d);
                // σ → 0 under components of positive variance: D = x + O(σ²/s²).
                assertTrue(maxAbsDiff(x, m.denoise(xt, sigma(1e-4)).toDoubleArray()) < 1e-6, m + " at sigma 1e-4");
                assertTrue(maxAbsDiff(x, m.denoise(xt, sigma(0)).toDoubleArray()) < 1e-12, m + " at sigma 0");
                // σ ≫ data scale: the posterior is the prior, D → E[x₀] = Σ wₖμₖ.
                double[] mean = m.mean();
                double[] far = m.denoise(xt, sigma(1e4)).toDoubleArray();
                for (int i = 0; i < 50; i++) {
                    for (int j = 0; j < d; j++) {
                        assertEquals(mean[j], far[i * d + j], 1e-6, m + " at sigma 1e4");
                    }
                }
            }
        }
        // The data mean of the weighted mixture, not the mean of its component means.
        assertArrayEquals(new double[] {0.15, 1.1, 0.3}, diag3().mean(), 1e-12);
    }

    @Test
    void pointSetSnapsToTheNearestPointAtSmallNoise() {
        int k = 50;
        int d = 5;
        double[][] pts = gaussianRows(6, k, d, 1);
        MixtureDenoiser m = MixtureDenoiser.points(pts);
        assertTrue(m.isotropic());
        double[][] x = gaussianRows(7, 200, d, 1);
        try (Scope s = Scope.open()) {
            for (double sg : new double[] {0.01, 0}) {
                double[][] out = toRows(m.denoise(rows(x), sigma(sg)), d);
                int tested = 0;
                for (int i = 0; i < x.length; i++) {
                    int best = -1;
                    double d1 = Double.MAX_VALUE;
                    double d2 = Double.MAX_VALUE;
                    for (int p = 0; p < k; p++) {
                        double e = 0;
                        for (int j = 0; j < d; j++) {
                            e += Math.pow(x[i][j] - pts[p][j], 2);
                        }
                        if (e < d1) {
                            d2 = d1;
                            d1 = e;
                            best = p;
                        } else if (e < d2) {
                            d2 = e;
                        }
                    }
                    // With a squared-distance gap of 0.05 the runner-up's responsibility is below e^(−0.05/2σ²) = e^(−250).
                    if (d2 - d1 > 0.05) {
                        tested++;
                        assertTrue(maxAbsDiff(pts[best], out[i]) < 1e-9, "row " + i + " at sigma " + sg);
                    }
                }
                assertTrue(tested > 150, "only " + tested + " rows had a clear nearest point");
            }
            // At σ = 0 the density and score of point masses are infinite: a clear error, not NaN.
            DiffusionException e = assertThrows(DiffusionException.class, () -> m.logDensity(rows(x), 0));
            assertTrue(e.getMessage().contains("positive noise level"), e.getMessage());
            assertThrows(DiffusionException.class, () -> m.score(rows(x), 0));
        }
    }

    @Test
    void perSampleSigmasEqualRowByRowEvaluation() {
        double[][] pts = gaussianRows(8, 30, 2, 1.5);
        try (Scope s = Scope.open()) {
            for (MixtureDenoiser m : new MixtureDenoiser[] {diag3(), iso3(), eight(), MixtureDenoiser.points(pts)}) {
                int d = m.dim();
                int b = 12;
                double[][] x = gaussianRows(10, b, d, 2);
                double[] sg = new double[b];
                for (int i = 0; i < b; i++) {
                    sg[i] = 0.01 * Math.pow(5000, i / (b - 1.0));   // 0.01 … 50, log-spaced
                }
                Tensor sigmas = Tensor.of(sg, b);
                double[] batched = m.denoise(rows(x), sigmas).toDoubleArray();
                double[] batchedScore = m.score(rows(x), sigmas).toDoubleArray();
                double[] batchedLog = m.logDensity(rows(x), sigmas).toDoubleArray();
                for (int i = 0; i < b; i++) {
                    Tensor row = rows(new double[][] {x[i]});
                    double[] one = m.denoise(row, sigma(sg[i])).toDoubleArray();
                    double[] oneScore = m.score(row, sg[i]).toDoubleArray();
                    for (int j = 0; j < d; j++) {
                        assertEquals(one[j], batched[i * d + j], 1e-12, m + " D row " + i);
                        assertEquals(oneScore[j], batchedScore[i * d + j], 1e-9 * Math.max(1, Math.abs(oneScore[j])), m + " score row " + i);
                    }
                    assertEquals(m.logDensity(row, sg[i]).item(), batchedLog[i], 1e-10, m + " log density row " + i);
                }
                // [1] broadcasts like [B] filled with the same value.
                double[] shared = m.denoise(rows(x), sigma(0.7)).toDoubleArray();
                double[] filled = m.denoise(rows(x), Tensor.full(DType.FLOAT64, 0.7, b)).toDoubleArray();
                assertTrue(maxAbsDiff(shared, filled) < 1e-12, m.toString());
            }
        }
    }

    @Test
    void keepsShapeAndDtypeAndRejectsMismatchedInputs() {
        MixtureDenoiser m = MixtureDenoiser.points(new double[][] {{0, 0, 0, 0}, {1, 1, 1, 1}}, new double[] {0.25, 0.75});
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.zeros(5, 2, 2).add(0.9);
            Tensor out = m.denoise(x, Tensor.of(new float[] {0.1f}, 1));
            assertArrayEquals(new long[] {5, 2, 2}, out.shape());
            assertEquals(DType.FLOAT32, out.dtype());
            assertArrayEquals(new float[] {1, 1, 1, 1}, java.util.Arrays.copyOf(out.toFloatArray(), 4), 1e-6f);
            assertEquals(DType.FLOAT32, m.score(x, 0.5).dtype());

            DiffusionException shape = assertThrows(DiffusionException.class, () -> m.denoise(Tensor.zeros(5, 3), sigma(1)));
            assertTrue(shape.getMessage().contains("4 values per sample"), shape.getMessage());
            DiffusionException sig = assertThrows(DiffusionException.class, () -> m.denoise(x, Tensor.ones(3)));
            assertTrue(sig.getMessage().contains("one noise level per sample"), sig.getMessage());
            assertThrows(DiffusionException.class, () -> m.logDensity(x, -1));
            assertThrows(DiffusionException.class, () -> m.logDensity(x, Double.NaN));
        }
    }

    @Test
    void noiseRangeIsContinuousByDefaultOrTheSchedulesGrid() {
        MixtureDenoiser m = eight();
        assertEquals(0, m.trainingSigmas().length);
        assertEquals(0.002, m.sigmaMin());
        assertEquals(80, m.sigmaMax());
        // m₂ = (‖μ‖² + 2s²)/2 = (4 + 0.08)/2 for 8gaussians; the start matches the marginal's second moment.
        assertEquals(2.04, m.secondMoment(), 1e-12);
        assertEquals(Math.sqrt(6400 + 2.04), m.initNoiseScale(), 1e-12);

        MixtureDenoiser narrow = m.withSigmaRange(0.01, 10);
        assertEquals(0.01, narrow.sigmaMin());
        assertEquals(10, narrow.sigmaMax());
        assertEquals(Math.sqrt(100 + 2.04), narrow.initNoiseScale(), 1e-12);
        assertEquals(80, m.sigmaMax(), "copies do not change the original");

        NoiseSchedule schedule = NoiseSchedule.of(BetaSchedule.LINEAR, 1000);
        MixtureDenoiser discrete = m.withSchedule(schedule);
        double[] grid = schedule.sigmasForSampling();
        assertArrayEquals(grid, discrete.trainingSigmas(), 0);
        assertEquals(grid[0], discrete.sigmaMin());
        assertEquals(grid[999], discrete.sigmaMax());
        assertEquals(Math.sqrt(1 + grid[999] * grid[999]), discrete.initNoiseScale(), 1e-9);
        assertTrue(discrete.toString().contains("T=1000"), discrete.toString());

        assertThrows(DiffusionException.class, () -> m.withSigmaRange(1, 0.5));
        assertThrows(DiffusionException.class, () -> m.withSigmaRange(0, 1));
        assertThrows(DiffusionException.class, () -> m.withSigmaRange(0.1, Double.POSITIVE_INFINITY));
        assertThrows(DiffusionException.class, () -> m.withSchedule(null));
    }

    @Test
    void exactSamplesHaveTheMixturesMeanAndCovariance() {
        MixtureDenoiser m = diag3();
        int n = 100_000;
        try (Scope s = Scope.open()) {
            Tensor t = m.sample(new Generator(12), n);
            assertArrayEquals(new long[] {n, 3}, t.shape());
            assertEquals(DType.FLOAT32, t.dtype());
            assertTrue(t.equal(m.sample(new Generator(12), n)), "same seed, same samples");
            double[][] x = toRows(t, 3);
            double[] mean = m.mean();
            double[][] cov = m.covariance();
            double[] mHat = new double[3];
            for (double[] r : x) {
                for (int j = 0; j < 3; j++) {
                    mHat[j] += r[j] / n;
                }
            }
            for (int a = 0; a < 3; a++) {
                assertEquals(mean[a], mHat[a], 5 * Math.sqrt(cov[a][a] / n), "mean " + a);
                for (int b = 0; b <= a; b++) {
                    double sum = 0;
                    double sumSq = 0;
                    for (double[] r : x) {
                        double p = (r[a] - mHat[a]) * (r[b] - mHat[b]);
                        sum += p;
                        sumSq += p * p;
                    }
                    double c = sum / n;
                    double se = Math.sqrt((sumSq / n - c * c) / n);
                    assertEquals(cov[a][b], c, 5 * se, "covariance " + a + "," + b);
                }
            }
        }
        assertThrows(DiffusionException.class, () -> m.sample(new Generator(1), 0));
    }

    @Test
    void factoriesValidateAndDropZeroWeightComponents() {
        GaussianMixture gm = Toy2D.EIGHT_GAUSSIANS.mixture().orElseThrow();
        MixtureDenoiser viaRecord = MixtureDenoiser.of(gm);
        assertEquals(8, viaRecord.components());
        assertEquals(2, viaRecord.dim());
        assertTrue(viaRecord.isotropic());
        assertTrue(iso3().isotropic());
        assertFalse(diag3().isotropic());
        assertEquals(0.04, viaRecord.variances()[3][1], 1e-15);

        // A far-away component of weight 0 must not change anything.
        MixtureDenoiser dropped = MixtureDenoiser.diagonal(new double[][] {{0, 0}, {1, 1}, {100, 100}},
                new double[][] {{1, 1}, {0.5, 0.5}, {1, 1}}, new double[] {0.5, 0.5, 0});
        MixtureDenoiser two = MixtureDenoiser.diagonal(new double[][] {{0, 0}, {1, 1}}, new double[][] {{1, 1}, {0.5, 0.5}}, null);
        assertEquals(2, dropped.components());
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new double[] {0.3, -0.2, 2, 1}, 2, 2);
            assertTrue(dropped.denoise(x, sigma(0.5)).allClose(two.denoise(x, sigma(0.5)), 0, 1e-15));
        }

        assertTrue(assertThrows(DiffusionException.class, () -> MixtureDenoiser.points(new double[][] {{0, 0}, {1, 1}}, new double[] {0.5, 0.4}))
                .getMessage().contains("sum to 1"));
        assertThrows(DiffusionException.class, () -> MixtureDenoiser.points(new double[][] {{0, 0}, {1, 1}}, new double[] {1.5, -0.5}));
        assertThrows(DiffusionException.class, () -> MixtureDenoiser.points(new double[][] {{0, 0}, {1, 1}}, new double[] {1}));
        assertThrows(DiffusionException.class, () -> MixtureDenoiser.points(new double[0][]));
        assertThrows(DiffusionException.class, () -> MixtureDenoiser.points(new double[][] {{0, 0}, {1}}));
        assertThrows(DiffusionException.class, () -> MixtureDenoiser.diagonal(new double[][] {{0}}, new double[][] {{-1}}, null));
        assertThrows(DiffusionException.class, () -> MixtureDenoiser.diagonal(new double[][] {{Double.NaN}}, new double[][] {{1}}, null));
        assertThrows(DiffusionException.class, () -> MixtureDenoiser.diagonal(new double[][] {{0, 0}}, new double[][] {{1}}, null));
    }
}
