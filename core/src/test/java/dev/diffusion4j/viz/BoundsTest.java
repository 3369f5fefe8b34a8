package dev.diffusion4j.viz;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BoundsTest {

    @Test
    void quantileRangePlusTenPercentMargin() {
        // x = 0..200, y = 2x: the 0.5% and 99.5% quantiles are 1 and 199 (R/NumPy type 7).
        float[] xy = new float[402];
        for (int i = 0; i <= 200; i++) {
            xy[2 * i] = i;
            xy[2 * i + 1] = 2 * i;
        }
        Bounds b = Bounds.of(xy);
        assertEquals(1 - 19.8, b.xMin(), 1e-9);
        assertEquals(199 + 19.8, b.xMax(), 1e-9);
        assertEquals(2 - 39.6, b.yMin(), 1e-9);
        assertEquals(398 + 39.6, b.yMax(), 1e-9);
    }

    @Test
    void ignoresATenthOfAPercentOfOutliers() {
        Random rnd = new Random(7);
        int n = 10_000;
        int outliers = 10;
        float[] xy = new float[2 * (n + outliers)];
        for (int i = 0; i < 2 * n; i++) {
            xy[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        for (int i = n; i < n + outliers; i++) {
            xy[2 * i] = 1e6f;
            xy[2 * i + 1] = -5e5f;
        }
        Bounds b = Bounds.of(xy);
        // Uniform on [-1, 1]: quantiles ≈ ±0.99, plus 10% of 1.98 on each side ≈ ±1.19.
        assertEquals(-1.19, b.xMin(), 0.02);
        assertEquals(1.19, b.xMax(), 0.02);
        assertEquals(-1.19, b.yMin(), 0.02);
        assertEquals(1.19, b.yMax(), 0.02);
    }

    @Test
    void ignoresNaNAndInfinitePoints() {
        float[] clean = {0, 0, 1, 2, 2, 4, 3, 6};
        float[] dirty = {0, 0, Float.NaN, 100, 1, 2, Float.POSITIVE_INFINITY, 0, 2, 4, -50, Float.NEGATIVE_INFINITY, 3, 6};
        assertEquals(Bounds.of(clean), Bounds.of(dirty));
    }

    @Test
    void degenerateDataIsPadded() {
        Bounds one = Bounds.of(5f, -2f);
        assertTrue(one.contains(5, -2));
        assertEquals(5, (one.xMin() + one.xMax()) / 2, 1e-12);
        assertTrue(one.width() > 0 && one.height() > 0);
        Bounds zero = Bounds.of(0f, 0f, 0f, 0f);
        assertEquals(new Bounds(-1, 1, -1, 1), zero);
        assertEquals(new Bounds(-1, 1, -1, 1), Bounds.of(Float.NaN, 1f));
        assertEquals(new Bounds(-1, 1, -1, 1), Bounds.of());
    }

    @Test
    void squareGivesEqualSpansAroundTheSameCentre() {
        Bounds b = new Bounds(-1, 3, 10, 11).square();
        assertEquals(4, b.width(), 1e-12);
        assertEquals(4, b.height(), 1e-12);
        assertEquals(1, (b.xMin() + b.xMax()) / 2, 1e-12);
        assertEquals(10.5, (b.yMin() + b.yMax()) / 2, 1e-12);
        Bounds tall = new Bounds(0, 1, -5, 5).square();
        assertEquals(tall.width(), tall.height(), 1e-12);
        assertEquals(new Bounds(-4.5, 5.5, -5, 5), tall);
    }

    @Test
    void unionAndExpand() {
        Bounds u = new Bounds(0, 1, 0, 1).union(new Bounds(-2, 0.5, 0.5, 3));
        assertEquals(new Bounds(-2, 1, 0, 3), u);
        assertEquals(new Bounds(-0.5, 2.5, 9, 11), new Bounds(0, 2, 9.5, 10.5).expand(0.25).union(new Bounds(0, 1, 9, 11)));
        assertEquals(new Bounds(-0.5, 2.5, 9.25, 10.75), new Bounds(0, 2, 9.5, 10.5).expand(0.25));
        assertThrows(DiffusionException.class, () -> u.expand(Double.NaN));
    }

    @Test
    void rejectsEmptyOrNonFiniteRangesAndOddInput() {
        assertThrows(DiffusionException.class, () -> new Bounds(1, 1, 0, 1));
        assertThrows(DiffusionException.class, () -> new Bounds(0, 1, 2, 1));
        assertThrows(DiffusionException.class, () -> new Bounds(0, Double.POSITIVE_INFINITY, 0, 1));
        assertThrows(DiffusionException.class, () -> Bounds.of(1f, 2f, 3f));
    }

    @Test
    void tensorOverloadMatchesArrays() {
        float[] xy = {0.5f, 1, -2, 3, 4, -1, 2, 2};
        try (Scope s = Scope.open()) {
            assertEquals(Bounds.of(xy), Bounds.of(Tensor.of(xy, 4, 2)));
            assertThrows(DiffusionException.class, () -> Bounds.of(Tensor.of(xy, 2, 4)));
        }
    }
}
