package dev.diffusion4j.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SampleMetricsTest {

    private static Tensor points(double[] v, int d) {
        return Tensor.of(v, v.length / d, d).to(DType.FLOAT32);
    }

    /** Standard normal CDF by Simpson's rule on the density (error far below 1e-12 for |z| ≤ 8). */
    private static double phi(double z) {
        int steps = 20000;
        double h = z / steps;
        double sum = 0;
        for (int i = 0; i <= steps; i++) {
            double t = i * h;
            double f = Math.exp(-t * t / 2);
            sum += (i == 0 || i == steps) ? f : (i % 2 == 1 ? 4 * f : 2 * f);
        }
        return 0.5 + sum * h / 3 / Math.sqrt(2 * Math.PI);
    }

    /** E|Z| for Z ~ N(mu, s²). */
    private static double meanAbsNormal(double mu, double s) {
        return s * Math.sqrt(2 / Math.PI) * Math.exp(-mu * mu / (2 * s * s)) + mu * (1 - 2 * phi(-mu / s));
    }

    /** Mean and standard deviation of replicate values. */
    private static double[] meanSd(double[] v) {
        double m = Arrays.stream(v).average().orElseThrow();
        double ss = 0;
        for (double x : v) {
            ss += (x - m) * (x - m);
        }
        return new double[] {m, Math.sqrt(ss / (v.length - 1))};
    }

    @Test
    void exactValuesOnTinyHandComputedSets() {
        try (Scope s = Scope.open()) {
            // One point each, 5 apart: D² = 2·5 − 0 − 0.
            assertEquals(10.0, SampleMetrics.energyDistance(points(new double[] {0, 0}, 2), points(new double[] {3, 4}, 2)), 1e-12);
            // The same in 10-D, where distances come from the matrix-product form.
            double[] a = new double[10];
            double[] b = new double[10];
            b[3] = 3;
            b[7] = 4;
            assertEquals(10.0, SampleMetrics.energyDistance(points(a, 10), points(b, 10)), 1e-9);
            // x = {0, 2}, y = {1}: mean|x−y| = 1, mean|x−x'| over 4 pairs (with i = j) = 1, so D² = 1.
            // (A U-statistic, dropping i = j, would give 2 − 2 − 0 = 0.)
            Tensor x = points(new double[] {0, 2}, 1);
            Tensor y = points(new double[] {1}, 1);
            assertEquals(1.0, SampleMetrics.energyDistance(x, y), 1e-12);

            // Pooled {0, 2, 1}: pair distances {2, 1, 1}, median 1.
            assertEquals(1.0, SampleMetrics.medianBandwidth(x, y), 0);
            // k(a,b) = exp(−(a−b)²/2): Kxx = (2 + 2e⁻²)/4, Kyy = 1, Kxy = e^{−1/2}.
            double expected = (1 + Math.exp(-2)) / 2 + 1 - 2 * Math.exp(-0.5);
            assertEquals(expected, SampleMetrics.mmd(x, y), 1e-12);
            // Pooled {0, 1, 3, 5}: distances {1, 3, 5, 2, 4, 2}, even count, median (2 + 3)/2.
            assertEquals(2.5, SampleMetrics.medianBandwidth(points(new double[] {0, 1}, 1), points(new double[] {3, 5}, 1)), 0);

            // x = {0, 1, 2}, y = {0, 3}: quantile steps on the grid 0, 1/3, 1/2, 2/3, 1 give
            // W₂² = 0·⅓ + 1²·⅙ + 2²·⅙ + 1²·⅓ = 7/6; in 1-D every direction is ±1.
            double sw = SampleMetrics.slicedWasserstein(points(new double[] {0, 1, 2}, 1), points(new double[] {3, 0}, 1), 7, new Generator(1));
            assertEquals(Math.sqrt(7.0 / 6), sw, 1e-12);
        }
    }

    @Test
    void identicalPointSetsScoreExactlyZero() {
        for (int d : new int[] {2, 16}) {
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(new Generator(5), 700, d);
                Tensor same = Tensor.randn(new Generator(5), 700, d);
                assertEquals(0.0, SampleMetrics.energyDistance(x, same), 0, "d=" + d);
                assertEquals(0.0, SampleMetrics.mmd(x, same), 0, "d=" + d);
                assertEquals(0.0, SampleMetrics.slicedWasserstein(x, same, 20, new Generator(1)), 0, "d=" + d);
                // A reordering of the points is the same empirical measure.
                Tensor shuffled = x.indexSelect(0, Tensor.randperm(new Generator(2), 700));
                assertEquals(0.0, SampleMetrics.slicedWasserstein(x, shuffled, 20, new Generator(1)), 0);
                assertEquals(0.0, SampleMetrics.energyDistance(x, shuffled), 1e-12);
            }
        }
    }

    @Test
    void unequalSizesCompareEmpiricalMeasuresNotPointLists() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(new Generator(8), 5, 3);
            Tensor tripled = Tensor.cat(List.of(x, x, x), 0);
            // Repeating every point three times leaves the empirical distribution unchanged.
            assertEquals(0.0, SampleMetrics.slicedWasserstein(x, tripled, 50, new Generator(3)), 1e-12);
            assertEquals(0.0, SampleMetrics.energyDistance(x, tripled), 1e-12);
            assertEquals(0.0, SampleMetrics.mmd(x, tripled), 1e-12);

            // 1-D, n = 6 and m = 4: against a brute-force integral on a 1200-cell grid of t, which is
            // exact because 1200 is a multiple of both 6 and 4.
            double[] xv = {0.3, -1.2, 2.5, 0.0, 4.1, -0.7};
            double[] yv = {1.1, -2.0, 0.4, 3.3};
            double[] xs = xv.clone();
            double[] ys = yv.clone();
            Arrays.sort(xs);
            Arrays.sort(ys);
            int cellsT = 1200;
            double w2 = 0;
            for (int k = 0; k < cellsT; k++) {
                double t = (k + 0.5) / cellsT;
                double diff = xs[(int) (t * 6)] - ys[(int) (t * 4)];
                w2 += diff * diff / cellsT;
            }
            double sw = SampleMetrics.slicedWasserstein(Tensor.of(xv, 6, 1), Tensor.of(yv, 4, 1), 3, new Generator(4));
            assertEquals(Math.sqrt(w2), sw, 1e-12);
        }
    }

    @Test
    void matchesBruteForcePairSumsInBothDistanceFormsAndAnyBlockSize() {
        for (int d : new int[] {3, 12}) {
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(new Generator(21), 130, d);
                Tensor y = Tensor.randn(new Generator(22), 97, d).add(0.3);
                double[] xv = x.toDoubleArray();
                double[] yv = y.toDoubleArray();
                double h = 1.7;
                double[] dxy = brute(xv, yv, d, h);
                double[] dxx = brute(xv, xv, d, h);
                double[] dyy = brute(yv, yv, d, h);
                double ed = 2 * dxy[0] - dxx[0] - dyy[0];
                double mmd = dxx[1] + dyy[1] - 2 * dxy[1];
                assertEquals(ed, SampleMetrics.energyDistance(x, y), 1e-9 * Math.abs(ed) + 1e-12, "d=" + d);
                assertEquals(mmd, SampleMetrics.mmd(x, y, h), 1e-9 * Math.abs(mmd) + 1e-12, "d=" + d);
                // Block size 1 forces one row (and one direction) per block.
                assertEquals(ed, SampleMetrics.energyDistance(x, y, 1), 1e-9 * Math.abs(ed) + 1e-12);
                assertEquals(mmd, SampleMetrics.mmd(x, y, h, 1), 1e-9 * Math.abs(mmd) + 1e-12);
                assertEquals(SampleMetrics.medianBandwidth(x, y), SampleMetrics.medianBandwidth(x, y, 1), 0);
                double sw = SampleMetrics.slicedWasserstein(x, y, 40, new Generator(9));
                assertEquals(sw, SampleMetrics.slicedWasserstein(x, y, 40, new Generator(9), 1), 1e-12);
            }
        }
    }

    /** {mean‖a−b‖, mean exp(−‖a−b‖²/(2h²))} over all pairs, in plain Java. */
    private static double[] brute(double[] a, double[] b, int d, double h) {
        int n = a.length / d;
        int m = b.length / d;
        double dist = 0;
        double k = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double sq = 0;
                for (int c = 0; c < d; c++) {
                    double diff = a[i * d + c] - b[j * d + c];
                    sq += diff * diff;
                }
                dist += Math.sqrt(sq);
                k += Math.exp(-sq / (2 * h * h));
            }
        }
        return new double[] {dist / ((double) n * m), k / ((double) n * m)};
    }

    @Test
    void metricsAreSymmetric() {
        try (Scope s = Scope.open()) {
            Tensor x = Toy2D.MOONS.sample(new Generator(1), 900);
            Tensor y = Toy2D.CIRCLES.sample(new Generator(2), 1300);
            double ed = SampleMetrics.energyDistance(x, y);
            assertEquals(ed, SampleMetrics.energyDistance(y, x), 1e-12 * ed);
            double mmd = SampleMetrics.mmd(x, y);
            assertEquals(mmd, SampleMetrics.mmd(y, x), 1e-12 * mmd);
            double sw = SampleMetrics.slicedWasserstein(x, y, 30, new Generator(7));
            assertEquals(sw, SampleMetrics.slicedWasserstein(y, x, 30, new Generator(7)), 1e-12 * sw);
        }
    }

    /**
     * 1-D N(0,1) vs N(1,1): D² = 2E|X−Y| − E|X−X'| − E|Y−Y'| with X−Y ~ N(−1, 2) and X−X' ~ N(0, 2);
     * the V-statistic adds E|X−X'|/n + E|Y−Y'|/m on average.
     */
    @Test
    void energyDistanceMatchesGaussianClosedForm() {
        int n = 2000;
        int reps = 20;
        double s = Math.sqrt(2);
        double within = meanAbsNormal(0, s);
        assertEquals(2 / Math.sqrt(Math.PI), within, 1e-12);
        double population = 2 * meanAbsNormal(1, s) - 2 * within;
        assertEquals(0.54180, population, 1e-4);
        double expected = population + 2 * within / n;
        double[] est = new double[reps];
        for (int r = 0; r < reps; r++) {
            try (Scope sc = Scope.open()) {
                Tensor x = Tensor.randn(new Generator(100 + r), n, 1);
                Tensor y = Tensor.randn(new Generator(200 + r), n, 1).add(1);
                est[r] = SampleMetrics.energyDistance(x, y);
            }
        }
        double[] ms = meanSd(est);
        // The spread at n = 2000 is ≈ 0.04, so the tolerance below is ≈ 0.036 (7% of D²).
        assertTrue(ms[1] < 0.06, "replicate spread " + ms[1]);
        assertEquals(expected, ms[0], 4 * ms[1] / Math.sqrt(reps));
    }

    /**
     * 1-D N(0,1) vs N(1,1), bandwidth h: E k(X,Y) = h/√(h²+2)·exp(−1/(2(h²+2))), E k(X,X') = h/√(h²+2);
     * the V-statistic adds (1 − E k(X,X'))·(1/n + 1/m) on average.
     */
    @Test
    void mmdMatchesGaussianClosedFormAndMedianHeuristic() {
        int n = 2000;
        int reps = 20;
        double h = 1;
        double kxx = h / Math.sqrt(h * h + 2);
        double kxy = kxx * Math.exp(-1 / (2 * (h * h + 2)));
        double expected = 2 * kxx - 2 * kxy + 2 * (1 - kxx) / n;
        double[] est = new double[reps];
        double[] bw = new double[8];
        for (int r = 0; r < reps; r++) {
            try (Scope sc = Scope.open()) {
                Tensor x = Tensor.randn(new Generator(300 + r), n, 1);
                Tensor y = Tensor.randn(new Generator(400 + r), n, 1).add(1);
                est[r] = SampleMetrics.mmd(x, y, h);
                if (r < bw.length) {
                    bw[r] = SampleMetrics.medianBandwidth(x, Tensor.randn(new Generator(500 + r), n, 1));
                }
            }
        }
        double[] ms = meanSd(est);
        // The spread at n = 2000 is ≈ 0.017, so the tolerance below is ≈ 0.015 (9% of MMD²).
        assertTrue(ms[1] < 0.03, "replicate spread " + ms[1]);
        assertEquals(expected, ms[0], 4 * ms[1] / Math.sqrt(reps));
        // Pooled N(0,1) sample (4000 points, subsampled to 2000): Z − Z' ~ N(0, 2) has median |·| = √2·Φ⁻¹(¾).
        // One estimate varies by ≈ 0.011.
        double[] b = meanSd(bw);
        assertEquals(Math.sqrt(2) * 0.6744897501960817, b[0], Math.max(4 * b[1] / Math.sqrt(bw.length), 0.005));
        assertTrue(b[1] < 0.03, "bandwidth spread " + b[1]);
    }

    @Test
    void slicedWassersteinOfTranslatesAndScaledGaussians() {
        try (Scope s = Scope.open()) {
            // 1-D: the translate by c has W₂ = |c| in both directions ±1.
            Tensor x1 = Tensor.randn(new Generator(1), 3000, 1);
            assertEquals(0.75, SampleMetrics.slicedWasserstein(x1, x1.add(-0.75), 5, new Generator(2)), 1e-9);

            // 2-D translate by v: every direction scores |⟨u, v⟩| exactly, so SW₂ = (mean ⟨u,v⟩²)^½
            // over the very directions drawn; over the sphere E⟨u,v⟩² = ‖v‖²/d.
            Tensor x = Tensor.randn(new Generator(3), 4000, 2);
            Tensor v = Tensor.of(new float[] {3, -4}, 2);
            int l = 4000;
            double sw = SampleMetrics.slicedWasserstein(x, x.add(v), l, new Generator(4));
            Tensor u = Tensor.randn(new Generator(4), l, 2).to(DType.FLOAT64);
            u = u.div(u.norm(1, true));
            double exact = Math.sqrt(u.matmul(v.to(DType.FLOAT64)).square().mean().item());
            assertEquals(exact, sw, 1e-9);
            // cos²θ has variance 1/8, so mean cos² = 0.5 ± √(1/8/L); SW = 5·√(mean cos²) moves 5/(2√½) times as much.
            double seSw = 5 / (2 * Math.sqrt(0.5)) * Math.sqrt(0.125 / l);
            assertEquals(5 / Math.sqrt(2), sw, 5 * seSw);

            // N(0, I) vs N(0, 4I): every 1-D projection is N(0,1) vs N(0,4), W₂ = |2 − 1| = 1.
            Tensor a = Tensor.randn(new Generator(5), 20000, 2);
            Tensor b = Tensor.randn(new Generator(6), 20000, 2).mul(2);
            assertEquals(1.0, SampleMetrics.slicedWasserstein(a, b, 32, new Generator(7)), 0.03);
        }
    }

    @Test
    void shiftedDistributionScoresFarAboveTheSameDistributionFloor() {
        try (Scope s = Scope.open()) {
            Tensor x = Toy2D.EIGHT_GAUSSIANS.sample(new Generator(1), 2000);
            Tensor same = Toy2D.EIGHT_GAUSSIANS.sample(new Generator(2), 2000);
            Tensor shifted = Toy2D.EIGHT_GAUSSIANS.sample(new Generator(3), 2000).add(Tensor.of(new float[] {0.4f, 0}, 2));
            double edFloor = SampleMetrics.energyDistance(x, same);
            double edShift = SampleMetrics.energyDistance(x, shifted);
            assertTrue(edFloor > 0, "the V-statistic floor is positive");
            assertTrue(edShift > 8 * edFloor, "ED floor " + edFloor + " vs shifted " + edShift);
            double mmdFloor = SampleMetrics.mmd(x, same);
            double mmdShift = SampleMetrics.mmd(x, shifted);
            assertTrue(mmdFloor > 0);
            assertTrue(mmdShift > 8 * mmdFloor, "MMD floor " + mmdFloor + " vs shifted " + mmdShift);
            double swFloor = SampleMetrics.slicedWasserstein(x, same, 64, new Generator(9));
            double swShift = SampleMetrics.slicedWasserstein(x, shifted, 64, new Generator(9));
            assertTrue(swShift > 3 * swFloor, "SW floor " + swFloor + " vs shifted " + swShift);
            // The translation alone contributes (mean ⟨u, v⟩²)^½ ≈ 0.4/√2 ≈ 0.28.
            assertEquals(0.4 / Math.sqrt(2), swShift, 0.06);
        }
    }

    @Test
    void rejectsNonFiniteMismatchedAndEmptyInput() {
        try (Scope s = Scope.open()) {
            Tensor ok = Tensor.randn(new Generator(1), 10, 2);
            Tensor nan = Tensor.of(new float[] {1, Float.NaN}, 1, 2);
            String msg = assertThrows(DiffusionException.class, () -> SampleMetrics.energyDistance(ok, nan)).getMessage();
            assertTrue(msg.contains("sample y contains NaN"), msg);
            assertThrows(DiffusionException.class, () -> SampleMetrics.mmd(nan, ok));
            assertThrows(DiffusionException.class, () -> SampleMetrics.energyDistance(ok, Tensor.randn(new Generator(2), 10, 3)));
            assertThrows(DiffusionException.class, () -> SampleMetrics.slicedWasserstein(ok, ok, 0, new Generator(1)));
            assertThrows(DiffusionException.class, () -> SampleMetrics.mmd(ok, ok, 0));
            assertThrows(DiffusionException.class, () -> SampleMetrics.energyDistance(ok, Tensor.zeros(0, 2)));
            // Images [n, c, h, w] are compared as flattened vectors.
            Tensor img = Tensor.randn(new Generator(3), 6, 1, 2, 2);
            assertEquals(SampleMetrics.energyDistance(img, img.add(1)),
                    SampleMetrics.energyDistance(img.reshape(6, 4), img.add(1).reshape(6, 4)), 1e-12);
        }
    }
}
