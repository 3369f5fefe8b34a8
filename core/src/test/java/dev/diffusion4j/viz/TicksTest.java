package dev.diffusion4j.viz;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TicksTest {

    /** The mantissa of a 1/2/5 × 10^k number, or NaN when it has another form. */
    private static double niceMantissa(double step) {
        double m = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-12));
        for (double nice : new double[] {1, 2, 5, 10}) {
            if (Math.abs(m - nice) < 1e-9 * nice) {
                return nice == 10 ? 1 : nice;
            }
        }
        return Double.NaN;
    }

    @Test
    void niceStepIsTheSmallestOneTwoFiveStepThatFits() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 5000; trial++) {
            double span = Math.pow(10, rnd.nextDouble() * 16 - 8) * (1 + rnd.nextDouble());
            int intervals = 1 + rnd.nextInt(12);
            double step = Ticks.niceStep(span, intervals);
            double m = niceMantissa(step);
            assertFalse(Double.isNaN(m), "step " + step + " for span " + span);
            assertTrue(span / step <= intervals * (1 + 1e-9), span + " / " + step + " > " + intervals);
            // The next smaller nice step would need more intervals than allowed.
            double smaller = m == 1 ? step / 2 : m == 2 ? step / 2 : step * 2 / 5;
            assertTrue(span / smaller > intervals * (1 - 1e-9), "step " + step + " is not the smallest for " + span);
        }
        assertEquals(0.2, Ticks.niceStep(1, 5), 0);
        assertEquals(5.0, Ticks.niceStep(26, 6), 0);
        assertEquals(1e-5, Ticks.niceStep(9.5e-5, 10), 1e-20);
        assertThrows(DiffusionException.class, () -> Ticks.niceStep(0, 5));
    }

    @Test
    void linearTicksAreEvenlySpacedNiceValuesCoveringTheRange() {
        Random rnd = new Random(5);
        for (int trial = 0; trial < 5000; trial++) {
            double scale = Math.pow(10, rnd.nextInt(14) - 7);
            double lo = (rnd.nextDouble() * 20 - 10) * scale;
            double hi = lo + (0.01 + rnd.nextDouble() * 30) * scale;
            int maxCount = 2 + rnd.nextInt(10);
            double[] t = Ticks.linear(lo, hi, maxCount);
            double step = Ticks.niceStep(hi - lo, maxCount - 1);
            assertTrue(t.length <= maxCount, "too many ticks for " + lo + ".." + hi);
            // The step is below 2.5 × span / (maxCount − 1), so the range holds more than
            // (maxCount − 1) / 2.5 steps: at least one tick from 4 allowed, two from 6.
            if (maxCount >= 4) {
                assertTrue(t.length >= 1, "no tick in " + lo + ".." + hi);
            }
            if (maxCount >= 6) {
                assertTrue(t.length >= 2, "one tick in " + lo + ".." + hi);
            }
            for (int i = 0; i < t.length; i++) {
                double tol = 1e-9 * Math.max(Math.abs(hi), Math.abs(lo));
                assertTrue(t[i] >= lo - tol && t[i] <= hi + tol, t[i] + " outside " + lo + ".." + hi);
                assertEquals(0, Math.abs(t[i] / step - Math.rint(t[i] / step)), 1e-6, t[i] + " is not a multiple of " + step);
                if (i > 0) {
                    assertEquals(step, t[i] - t[i - 1], step * 1e-6);
                }
            }
            if (t.length > 0) {
                assertTrue(t[0] - lo < step * (1 + 1e-9), "first tick too far from lo");
                assertTrue(hi - t[t.length - 1] < step * (1 + 1e-9), "last tick too far from hi");
            }
        }
    }

    @Test
    void linearTicksAreExactDecimals() {
        assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6, 0.8, 1.0}, Ticks.linear(0, 1, 6), 0);
        assertArrayEquals(new double[] {-2, 0, 2}, Ticks.linear(-3.2, 3.2, 7), 0);
        assertArrayEquals(new double[] {0.3, 0.4, 0.5, 0.6, 0.7}, Ticks.linear(0.25, 0.75, 6), 0);
        assertArrayEquals(new double[] {0, 2000, 4000, 6000, 8000, 10000}, Ticks.linear(0, 10000, 8), 0);
        // Exactly 0, never -0: the label must not read "-0".
        assertEquals(Double.doubleToLongBits(0.0), Double.doubleToLongBits(Ticks.linear(-1, 1, 3)[1]));
    }

    @Test
    void logTicksArePowersOfTenThenOneTwoFiveThenLinear() {
        assertArrayEquals(new double[] {1, 10, 100, 1000}, Ticks.log10(1, 1000, 10), 0);
        assertArrayEquals(new double[] {0.01, 0.1, 1}, Ticks.log10(0.004, 3, 10), 0);
        assertArrayEquals(new double[] {1e-6, 1e-3, 1, 1e3}, Ticks.log10(1e-6, 1e3, 4), 0);
        assertArrayEquals(new double[] {0.5, 1, 2}, Ticks.log10(0.3, 4, 10), 0);
        assertArrayEquals(new double[] {0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}, Ticks.log10(0.012, 2.2, 10), 0);
        assertArrayEquals(new double[] {0.1, 1}, Ticks.log10(0.012, 2.2, 6), 0);
        assertArrayEquals(new double[] {0.5, 1, 2}, Ticks.log10(0.3, 4, 3), 0);
        assertArrayEquals(new double[] {1.1, 1.15, 1.2, 1.25, 1.3}, Ticks.log10(1.1, 1.3, 5), 1e-12);
        assertThrows(DiffusionException.class, () -> Ticks.log10(0, 10, 5));
    }

    @Test
    void logMinorTicksFillTheDecades() {
        assertArrayEquals(new double[] {2, 3, 4, 5, 6, 7, 8, 9, 20, 30}, Ticks.log10Minor(1.5, 35, 8), 1e-12);
        assertEquals(0, Ticks.log10Minor(1e-9, 1e3, 8).length);
    }

    @Test
    void labelsUseTheStepsPrecision() {
        assertEquals("0.3", Ticks.label(0.30000000000000004, 0.1));
        assertEquals("0", Ticks.label(-0.0, 1));
        assertEquals("0", Ticks.label(1e-17, 0.1));
        assertEquals("0.25", Ticks.label(0.25, 0.05));
        assertEquals("1500", Ticks.label(1500, 500));
        assertEquals("-2", Ticks.label(-2, 1));
        assertEquals("1.0", Ticks.label(1, 0.5));
        assertEquals("1e-5", Ticks.label(1e-5, 1e-5));
        assertEquals("2.5e6", Ticks.label(2.5e6, 5e5));
        assertEquals("1e6", Ticks.label(1e6, 1e6));
        assertEquals("-3e-7", Ticks.label(-3e-7, 1e-7));
        assertEquals("0.001", Ticks.logLabel(0.001));
        assertEquals("0.02", Ticks.logLabel(0.02));
        assertEquals("1", Ticks.logLabel(1));
        assertEquals("500", Ticks.logLabel(500));
        assertEquals("1e-7", Ticks.logLabel(1e-7));
        assertEquals("1e7", Ticks.logLabel(1e7));
    }
}
