package dev.diffusion4j.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ToyDatasetsTest {

    private static final int N = 20000;

    /** Draws n points and returns them as {x[], y[]}. */
    private static double[][] draw(Toy2D set, long seed, int n) {
        try (Scope s = Scope.open()) {
            double[] flat = set.sample(new Generator(seed), n).toDoubleArray();
            double[] x = new double[n];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = flat[2 * i];
                y[i] = flat[2 * i + 1];
            }
            return new double[][] {x, y};
        }
    }

    /** Angle difference wrapped into [−period/2, period/2). */
    private static double wrap(double a, double period) {
        double r = (a + period / 2) % period;
        if (r < 0) {
            r += period;
        }
        return r - period / 2;
    }

    @Test
    void registryListsEightSetsAndRejectsUnknownNames() {
        assertEquals(List.of("swissroll", "moons", "8gaussians", "25gaussians", "checkerboard", "circles", "pinwheel", "spirals"),
                ToyDatasets.names());
        assertSame(Toy2D.EIGHT_GAUSSIANS, ToyDatasets.get("8gaussians"));
        assertSame(Toy2D.MOONS, ToyDatasets.get("  Moons "));
        DiffusionException e = assertThrows(DiffusionException.class, () -> ToyDatasets.get("x"));
        assertEquals("unknown dataset 'x'; available: swissroll, moons, 8gaussians, 25gaussians, checkerboard, circles, pinwheel, spirals",
                e.getMessage());
        for (Toy2D t : ToyDatasets.all()) {
            assertFalse(t.description().isBlank());
            assertEquals(2, t.dim());
            assertTrue(t.all().isEmpty());
        }
    }

    @Test
    void samplesHaveShapeAreFiniteAndDeterministicBySeed() {
        for (Toy2D set : ToyDatasets.all()) {
            try (Scope s = Scope.open()) {
                Tensor a = set.sample(new Generator(11), 500);
                Tensor b = set.sample(new Generator(11), 500);
                Tensor c = set.sample(new Generator(12), 500);
                assertArrayEquals(new long[] {500, 2}, a.shape(), set.name());
                assertEquals(DType.FLOAT32, a.dtype(), set.name());
                assertTrue(a.allFinite(), set.name());
                assertTrue(a.equal(b), set.name() + " must be reproducible from the seed");
                assertFalse(a.equal(c), set.name() + " must change with the seed");
                // Rows are independent draws: two halves of one batch differ.
                assertFalse(a.narrow(0, 0, 250).equal(a.narrow(0, 250, 250)), set.name());
            }
        }
        assertThrows(DiffusionException.class, () -> Toy2D.MOONS.sample(new Generator(1), 0));
    }

    /** Mean and variance of each coordinate match the values documented on each constant, within 5 standard errors. */
    @Test
    void momentsMatchDocumentedScale() {
        double pi2 = Math.PI * Math.PI;
        Map<Toy2D, double[]> expected = Map.of(
                // mean x, mean y, var x, var y (swiss roll and spirals by quadrature of their definitions)
                Toy2D.SWISSROLL, new double[] {0.4, 0.0424413, 1.7945729, 1.9727716},
                Toy2D.MOONS, new double[] {0, 0, 3.01, 0.9867605},
                Toy2D.EIGHT_GAUSSIANS, new double[] {0, 0, 2.04, 2.04},
                Toy2D.TWENTY_FIVE_GAUSSIANS, new double[] {0, 0, 1.0025, 1.0025},
                Toy2D.CHECKERBOARD, new double[] {0, 0, 4.0 / 3, 4.0 / 3},
                Toy2D.CIRCLES, new double[] {0, 0, 1.26, 1.26},
                Toy2D.PINWHEEL, new double[] {0, 0, 2.2, 2.2},
                Toy2D.SPIRALS, new double[] {0, 0, 2.5607344, 2.3940678});
        assertEquals(ToyDatasets.all().size(), expected.size());
        int n = 200_000;
        for (Toy2D set : ToyDatasets.all()) {
            double[][] xy = draw(set, 5, n);
            double[] e = expected.get(set);
            for (int c = 0; c < 2; c++) {
                double m = 0;
                for (double v : xy[c]) {
                    m += v;
                }
                m /= n;
                double m2 = 0;
                double m4 = 0;
                for (double v : xy[c]) {
                    double d = (v - m) * (v - m);
                    m2 += d;
                    m4 += d * d;
                }
                m2 /= n;
                m4 /= n;
                double seMean = Math.sqrt(m2 / n);
                double seVar = Math.sqrt((m4 - m2 * m2) / n);
                assertEquals(e[c], m, 5 * seMean, set.name() + " mean of coordinate " + c);
                assertEquals(e[2 + c], m2, 5 * seVar, set.name() + " variance of coordinate " + c);
            }
        }
    }

    @Test
    void gaussianMixturesExposeExactParametersAndPointsClusterAtTheirMeans() {
        assertTrue(Toy2D.MOONS.mixture().isEmpty());
        for (Toy2D set : List.of(Toy2D.EIGHT_GAUSSIANS, Toy2D.TWENTY_FIVE_GAUSSIANS)) {
            GaussianMixture gm = set.mixture().orElseThrow();
            int k = gm.components();
            assertEquals(set == Toy2D.EIGHT_GAUSSIANS ? 8 : 25, k);
            assertEquals(2, gm.dim());
            double std = gm.stds()[0];
            assertEquals(set == Toy2D.EIGHT_GAUSSIANS ? 0.2 : 0.05, std, 0);
            double[][] means = gm.means();
            if (set == Toy2D.EIGHT_GAUSSIANS) {
                for (int i = 0; i < 8; i++) {
                    assertEquals(2.0, Math.hypot(means[i][0], means[i][1]), 1e-12);
                    assertEquals(1.0 / 8, gm.weights()[i], 0);
                }
            } else {
                assertEquals(-Math.sqrt(2), means[0][0], 1e-12);
                assertEquals(Math.sqrt(2), means[24][1], 1e-12);
            }
            double[][] xy = draw(set, 3, N);
            int[] counts = new int[k];
            double sq = 0;
            for (int i = 0; i < N; i++) {
                int best = 0;
                double bestD = Double.MAX_VALUE;
                for (int j = 0; j < k; j++) {
                    double d = Math.pow(xy[0][i] - means[j][0], 2) + Math.pow(xy[1][i] - means[j][1], 2);
                    if (d < bestD) {
                        bestD = d;
                        best = j;
                    }
                }
                counts[best]++;
                sq += bestD;
            }
            // E‖x − μ‖² = 2σ² for an isotropic 2-D Gaussian; the standard error here is below 1%.
            assertEquals(2 * std * std, sq / N, 0.04 * 2 * std * std, set.name());
            double se = Math.sqrt((1.0 / k) * (1 - 1.0 / k) / N);
            for (int c : counts) {
                assertEquals(1.0 / k, (double) c / N, 5 * se, set.name() + " component frequencies");
            }
        }
    }

    @Test
    void mixtureRejectsInconsistentParameters() {
        assertThrows(DiffusionException.class, () -> new GaussianMixture(new double[][] {{0, 0}}, new double[] {1}, new double[] {0.5}));
        assertThrows(DiffusionException.class, () -> new GaussianMixture(new double[][] {{0, 0}}, new double[] {0}, new double[] {1}));
        assertThrows(DiffusionException.class, () -> new GaussianMixture(new double[][] {{0, 0}, {1}}, new double[] {1, 1}, new double[] {.5, .5}));
        double[][] means = {{1, 2}};
        GaussianMixture gm = new GaussianMixture(means, new double[] {1}, new double[] {1});
        means[0][0] = 99;
        gm.means()[0][1] = 99;
        assertArrayEquals(new double[] {1, 2}, gm.means()[0], 0, "the record must not share its arrays");
    }

    @Test
    void checkerboardPointsLieOnlyOnBlackSquaresAndFillThemEvenly() {
        double[][] xy = draw(Toy2D.CHECKERBOARD, 4, N);
        int[] counts = new int[16];
        for (int i = 0; i < N; i++) {
            double x = xy[0][i];
            double y = xy[1][i];
            assertTrue(x >= -2 && x < 2 && y >= -2 && y < 2, "outside the board: " + x + ", " + y);
            int cx = (int) Math.floor(x);
            int cy = (int) Math.floor(y);
            assertEquals(0, Math.floorMod(cx + cy, 2), "point on a white square: " + x + ", " + y);
            counts[(cx + 2) * 4 + (cy + 2)]++;
        }
        double se = Math.sqrt((1.0 / 8) * (7.0 / 8) / N);
        int black = 0;
        for (int c = 0; c < 16; c++) {
            if (counts[c] > 0) {
                black++;
                assertEquals(1.0 / 8, (double) counts[c] / N, 5 * se);
            }
        }
        assertEquals(8, black);
    }

    @Test
    void circlesHaveRadiiOneAndTwoInEqualShareWithNoiseOfStdPointOne() {
        double[][] xy = draw(Toy2D.CIRCLES, 6, N);
        int inner = 0;
        double sq = 0;
        for (int i = 0; i < N; i++) {
            double r = Math.hypot(xy[0][i], xy[1][i]);
            double ring = r < 1.5 ? 1 : 2;
            if (ring == 1) {
                inner++;
            }
            sq += (r - ring) * (r - ring);
        }
        assertEquals(0.5, (double) inner / N, 5 * Math.sqrt(0.25 / N));
        // The radial offset is (to O(σ²/R)) the radial noise component: E(r − R)² ≈ σ² = 0.01.
        assertEquals(0.01, sq / N, 0.0005);
    }

    @Test
    void moonsAreTwoHalfCirclesReflectedThroughTheOrigin() {
        double[][] xy = draw(Toy2D.MOONS, 8, N);
        int upper = 0;
        double sq = 0;
        for (int i = 0; i < N; i++) {
            double dUpper = distanceToArc(xy[0][i], xy[1][i], -1, -0.5, true);
            double dLower = distanceToArc(xy[0][i], xy[1][i], 1, 0.5, false);
            if (dUpper < dLower) {
                upper++;
            }
            double d = Math.min(dUpper, dLower);
            sq += d * d;
        }
        assertEquals(0.5, (double) upper / N, 5 * Math.sqrt(0.25 / N));
        // Noise std 0.1 gives E d² ≈ 0.01, slightly less because noise past an arc's end is measured to the end.
        double msd = sq / N;
        assertTrue(msd > 0.008 && msd < 0.0105, "mean squared distance to the moons " + msd);
    }

    /** Distance from (x, y) to the half circle of radius 2 about (cx, cy), upper or lower half. */
    private static double distanceToArc(double x, double y, double cx, double cy, boolean upperHalf) {
        double dx = x - cx;
        double dy = y - cy;
        if (upperHalf ? dy >= 0 : dy <= 0) {
            return Math.abs(Math.hypot(dx, dy) - 2);
        }
        return Math.min(Math.hypot(dx - 2, dy), Math.hypot(dx + 2, dy));
    }

    @Test
    void swissRollFollowsTheSpiralRadiusEqualsAngleOverFive() {
        double[][] xy = draw(Toy2D.SWISSROLL, 9, N);
        double c = 0;
        for (int i = 0; i < N; i++) {
            double rho = Math.hypot(xy[0][i], xy[1][i]);
            double phi = Math.atan2(xy[1][i], xy[0][i]);
            c += Math.cos(phi - 5 * rho);
        }
        // On the noise-free roll φ ≡ 5ρ; radial noise of std 0.2 spreads the phase by ≈ 1 rad, so
        // E cos(φ − 5ρ) ≈ e^{−1/2}. Off-spiral or uniform points would give ≈ 0.
        assertEquals(0.603, c / N, 0.035);
    }

    @Test
    void pinwheelHasFiveEvenlyFilledCurledArms() {
        double[][] xy = draw(Toy2D.PINWHEEL, 10, N);
        int[] arms = new int[5];
        double c = 0;
        for (int i = 0; i < N; i++) {
            double rho = Math.hypot(xy[0][i], xy[1][i]);
            double phi = Math.atan2(xy[1][i], xy[0][i]);
            // Undo the curl φ = 2πk/5 + 0.25·e^{ρ/2}; what remains is a multiple of 2π/5.
            double residual = phi - 0.25 * Math.exp(rho / 2);
            c += Math.cos(5 * residual);
            arms[Math.floorMod((int) Math.round(residual / (2 * Math.PI / 5)), 5)]++;
        }
        assertEquals(0.848, c / N, 0.03);
        for (int a : arms) {
            assertEquals(0.2, (double) a / N, 5 * Math.sqrt(0.16 / N));
        }
    }

    @Test
    void spiralsSatisfyPhasePlusThreeRadiusIsAMultipleOfPi() {
        double[][] xy = draw(Toy2D.SPIRALS, 13, N);
        double c = 0;
        int armA = 0;
        for (int i = 0; i < N; i++) {
            double rho = Math.hypot(xy[0][i], xy[1][i]);
            double phi = Math.atan2(xy[1][i], xy[0][i]);
            // Arm +1: φ ≡ π − 3ρ; arm −1 (its reflection): φ ≡ −3ρ (mod 2π).
            c += Math.cos(2 * (phi + 3 * rho));
            if (Math.abs(wrap(phi + 3 * rho, 2 * Math.PI)) > Math.PI / 2) {
                armA++;
            }
        }
        assertEquals(0.824, c / N, 0.03);
        assertEquals(0.5, (double) armA / N, 0.02);
    }

    @Test
    void mixturesLabelEachPointWithItsComponent() {
        try (Scope s = Scope.open()) {
            for (Toy2D set : List.of(Toy2D.EIGHT_GAUSSIANS, Toy2D.TWENTY_FIVE_GAUSSIANS)) {
                GaussianMixture gm = set.mixture().orElseThrow();
                assertEquals(gm.components(), set.numClasses());
                assertEquals(gm.components(), set.classNames().size());
                DataSource.Labeled b = set.sampleLabeled(new Generator(3), 4000);
                assertTrue(set.sample(new Generator(3), 4000).equal(b.items()), "same draws as sample()");
                float[] p = b.items().toFloatArray();
                long[] labels = b.labels().toLongArray();
                double[][] means = gm.means();
                int[] counts = new int[means.length];
                for (int i = 0; i < labels.length; i++) {
                    double[] mu = means[(int) labels[i]];
                    double r = Math.hypot(p[2 * i] - mu[0], p[2 * i + 1] - mu[1]);
                    // component std 0.2 (8gaussians) or 0.05 (25gaussians): 6 std is never exceeded in 4,000 draws
                    assertTrue(r < 6 * gm.stds()[(int) labels[i]], set.name() + " point " + i + " lies " + r + " from its label's mean");
                    counts[(int) labels[i]]++;
                }
                for (int c : counts) {
                    assertTrue(c > 0.5 * 4000 / means.length, set.name() + ": labels cover every component evenly");
                }
            }
            assertEquals(0, Toy2D.MOONS.numClasses());
            DiffusionException none = assertThrows(DiffusionException.class, () -> Toy2D.MOONS.sampleLabeled(new Generator(0), 4));
            assertTrue(none.getMessage().contains("no class labels"), none.getMessage());
        }
    }
}
