package dev.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ImageMetricsTest {

    /** Tr((AB)^½) of 2×2 SPD matrices: for a 2×2 matrix M with real positive eigenvalues, Tr √M = √(Tr M + 2√det M). */
    private static double traceRootOfProduct2x2(double[] a, double[] b) {
        double[] p = {a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]};
        double det = (a[0] * a[3] - a[1] * a[2]) * (b[0] * b[3] - b[1] * b[2]);
        return Math.sqrt(p[0] + p[3] + 2 * Math.sqrt(det));
    }

    @Test
    void frechetDistanceOfNonCommutingCovariancesMatchesTheClosedForm() {
        double[] s1 = {2, 0.5, 0.5, 1};
        double[] s2 = {1, -0.3, -0.3, 3};
        try (Scope s = Scope.open()) {
            double got = ImageMetrics.frechetDistance(Tensor.of(new double[] {1, 2}, 2), Tensor.of(s1, 2, 2),
                    Tensor.of(new double[] {0, 0}, 2), Tensor.of(s2, 2, 2));
            double expected = 5 + (3 + 4) - 2 * traceRootOfProduct2x2(s1, s2);
            assertEquals(expected, got, 1e-10);
            // Treating the product's root as the product of element-wise roots would give a different value.
            assertTrue(Math.abs(got - (5 + 7 - 2 * (Math.sqrt(2) + Math.sqrt(3)))) > 0.01);
        }
    }

    @Test
    void frechetDistanceOfCoRotatedGaussiansIsTheSumOfSquaredRootDifferences() {
        int d = 16;
        Generator g = new Generator(3);
        try (Scope s = Scope.open()) {
            Tensor m = Tensor.randn(g, d, d).to(DType.FLOAT64);
            Tensor q = m.add(m.t()).eigh()[1];
            double[] a = Tensor.rand(g, d).add(0.1).to(DType.FLOAT64).toDoubleArray();
            double[] b = Tensor.rand(g, d).mul(3).add(0.1).to(DType.FLOAT64).toDoubleArray();
            Tensor c1 = q.mul(Tensor.of(a, 1, d)).matmul(q.t());
            Tensor c2 = q.mul(Tensor.of(b, 1, d)).matmul(q.t());
            double expected = 0;
            for (int i = 0; i < d; i++) {
                expected += Math.pow(Math.sqrt(a[i]) - Math.sqrt(b[i]), 2);
            }
            Tensor mu = Tensor.zeros(d).to(DType.FLOAT64);
            assertEquals(expected, ImageMetrics.frechetDistance(mu, c1, mu, c2), 1e-9);
            assertEquals(0, ImageMetrics.frechetDistance(mu, c1, mu, c1), 1e-9);
        }
    }

    @Test
    void fidOfSampledGaussiansApproachesThePopulationValue() {
        // x ~ N(0, I), y ~ N(m, 4I) in d = 8: FID = |m|² + d·(1 + 4 − 2·2) = |m|² + d.
        int d = 8;
        Generator g = new Generator(5);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(g, 40_000, d);
            Tensor m = Tensor.full(0.5, 1, d);
            Tensor y = Tensor.randn(g, 40_000, d).mul(2).add(m);
            double expected = 0.25 * d + d;
            assertEquals(expected, ImageMetrics.fid(x, y), 0.03 * expected);
            assertEquals(0, ImageMetrics.fid(x, Tensor.randn(g, 40_000, d)), 0.01);
        }
    }

    @Test
    void kidMatchesANaiveUnbiasedEstimateAndIsCentredForEqualDistributions() {
        Generator g = new Generator(7);
        try (Scope s = Scope.open()) {
            int n = 6;
            int d = 3;
            double[] x = Tensor.randn(g, n, d).to(DType.FLOAT64).toDoubleArray();
            double[] y = Tensor.randn(g, n, d).add(0.7).to(DType.FLOAT64).toDoubleArray();
            double xx = 0;
            double yy = 0;
            double xy = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (i != j) {
                        xx += kernel(x, i, x, j, d);
                        yy += kernel(y, i, y, j, d);
                    }
                    xy += kernel(x, i, y, j, d);
                }
            }
            double naive = xx / (n * (n - 1.0)) + yy / (n * (n - 1.0)) - 2 * xy / (n * n);
            assertEquals(naive, ImageMetrics.unbiasedMmd2(Tensor.of(x, n, d), Tensor.of(y, n, d)), 1e-10);

            Tensor a = Tensor.randn(g, 4000, 16);
            Tensor b = Tensor.randn(g, 4000, 16);
            ImageMetrics.Estimate same = ImageMetrics.kid(a, b, 50, 500, new Generator(1));
            ImageMetrics.Estimate shifted = ImageMetrics.kid(a, b.add(0.3), 50, 500, new Generator(1));
            assertTrue(shifted.mean() > 20 * Math.abs(same.mean()), same + " vs " + shifted);
            assertTrue(Math.abs(same.mean()) < 3 * same.std() / Math.sqrt(50) + 1e-3, same.toString());
            // subsets as large as both sets: one value, the unbiased MMD² of the sets, and no spread to report
            Tensor a2 = a.narrow(0, 0, 300);
            Tensor b2 = b.narrow(0, 0, 300).add(0.3);
            ImageMetrics.Estimate whole = ImageMetrics.kid(a2, b2, 50, 500, new Generator(1));
            assertEquals(ImageMetrics.unbiasedMmd2(a2.to(DType.FLOAT64), b2.to(DType.FLOAT64)), whole.mean(), 1e-12);
            assertTrue(Double.isNaN(whole.std()), whole.toString());
        }
    }

    private static double kernel(double[] a, int i, double[] b, int j, int d) {
        double dot = 0;
        for (int k = 0; k < d; k++) {
            dot += a[i * d + k] * b[j * d + k];
        }
        return Math.pow(dot / d + 1, 3);
    }

    @Test
    void kthNeighbourDistanceOnALine() {
        try (Scope s = Scope.open()) {
            Tensor line = Tensor.arange(10).to(DType.FLOAT64).reshape(10, 1);
            double[] r = ImageMetrics.kthNeighbourDistance(line, 3).toDoubleArray();
            assertEquals(3, r[0], 1e-12);   // neighbours 1, 2, 3
            assertEquals(2, r[1], 1e-12);   // 0, 2, 3
            assertEquals(2, r[5], 1e-12);   // 4, 6, 3 or 7
            assertEquals(3, r[9], 1e-12);
        }
    }

    @Test
    void precisionAndRecallSeeCopiesAndStrays() {
        Generator g = new Generator(11);
        try (Scope s = Scope.open()) {
            Tensor real = Tensor.randn(g, 400, 4);
            ImageMetrics.PrecisionRecall same = ImageMetrics.precisionRecall(real, real.clone(), 3);
            assertEquals(1.0, same.precision());
            assertEquals(1.0, same.recall());
            ImageMetrics.PrecisionRecall far = ImageMetrics.precisionRecall(real, real.add(100), 3);
            assertEquals(0.0, far.precision());
            assertEquals(0.0, far.recall());
            // Half the samples copy real points, half stray far away: precision is exactly one half,
            // and the copied real points (at least half of the real set) lie in the samples' manifold.
            Tensor half = Tensor.cat(java.util.List.of(real.narrow(0, 0, 200), real.narrow(0, 200, 200).add(100)), 0);
            ImageMetrics.PrecisionRecall mixed = ImageMetrics.precisionRecall(real, half, 3);
            assertEquals(0.5, mixed.precision());
            assertTrue(mixed.recall() >= 0.5 && mixed.recall() < 1, mixed.toString());
        }
    }

    @Test
    void densityAndCoverageAreNotFooledByARealOutlier() {
        Generator g = new Generator(12);
        try (Scope s = Scope.open()) {
            Tensor cluster = Tensor.randn(g, 400, 4);
            Tensor outlier = Tensor.of(new float[] {30, 0, 0, 0}, 1, 4);
            Tensor real = Tensor.cat(java.util.List.of(cluster, outlier), 0);
            // 100 samples collapsed onto one point 10 away from the outlier: inside the outlier's
            // ball (radius ≈ 29, its 5th neighbour is in the cluster), far from every cluster ball.
            Tensor collapsed = Tensor.of(new float[] {40, 0, 0, 0}, 1, 4).expand(100, 4).contiguous();
            assertEquals(1.0, ImageMetrics.precisionRecall(real, collapsed, 5).precision(), "precision is fooled");
            ImageMetrics.DensityCoverage dc = ImageMetrics.densityCoverage(real, collapsed, 5);
            assertEquals(1.0 / 5, dc.density(), 1e-12, "each sample sits in exactly one ball of k = 5");
            assertEquals(1.0 / 401, dc.coverage(), 1e-12, "only the outlier has a sample nearby");

            ImageMetrics.DensityCoverage same = ImageMetrics.densityCoverage(real, real.clone(), 5);
            assertEquals(1.0, same.coverage());
            assertTrue(same.density() > 0.8 && same.density() < 1.3, same.toString());
            ImageMetrics.DensityCoverage far = ImageMetrics.densityCoverage(real, cluster.add(1000), 5);
            assertEquals(0.0, far.density());
            assertEquals(0.0, far.coverage());
        }
    }

    @Test
    void inceptionScoreClosedForms() {
        int k = 10;
        int n = 1000;
        try (Scope s = Scope.open()) {
            Tensor labels = Tensor.arange(n).to(DType.FLOAT64).reshape(n, 1);
            Tensor classes = Tensor.arange(k).to(DType.FLOAT64).reshape(1, k);
            // Label i mod k: balanced in every split of 100.
            Tensor oneHot = labels.sub(labels.div(k).floor().mul(k)).sub(classes).abs().lt(0.5).to(DType.FLOAT64);
            assertEquals(k, ImageMetrics.inceptionScore(oneHot, 10).mean(), 1e-6);
            Tensor sameClass = Tensor.zeros(n, k).add(classes.lt(0.5).to(DType.FLOAT32));
            assertEquals(1, ImageMetrics.inceptionScore(sameClass, 10).mean(), 1e-6);
            assertEquals(1, ImageMetrics.inceptionScore(Tensor.full(1.0 / k, n, k), 10).mean(), 1e-9);
            // p = (1 − ε)·one-hot + ε/k with a uniform marginal: KL = Σ_y p log(k p).
            double eps = 0.3;
            double hi = 1 - eps + eps / k;
            double lo = eps / k;
            double expected = Math.exp(hi * Math.log(k * hi) + (k - 1) * lo * Math.log(k * lo));
            ImageMetrics.Estimate soft = ImageMetrics.inceptionScore(oneHot.mul(1 - eps).add(eps / k), 10);
            assertEquals(expected, soft.mean(), 1e-6);
            assertEquals(0, soft.std(), 1e-9);
        }
    }

    @Test
    void badShapesAreRejected() {
        try (Scope s = Scope.open()) {
            assertThrows(DiffusionException.class, () -> ImageMetrics.fid(Tensor.zeros(10, 4), Tensor.zeros(10, 5)));
            assertThrows(DiffusionException.class, () -> ImageMetrics.precisionRecall(Tensor.zeros(3, 4), Tensor.zeros(10, 4), 3));
            assertThrows(DiffusionException.class, () -> ImageMetrics.inceptionScore(Tensor.zeros(5, 10), 10));
        }
    }
}
