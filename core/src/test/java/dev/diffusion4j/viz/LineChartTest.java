package dev.diffusion4j.viz;

import static dev.diffusion4j.viz.Pixels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LineChartTest {
    private static final Color RED = new Color(255, 0, 0);
    private static final int PLOT = rgb(Axes.PLOT_BACKGROUND);
    private static final int GRID = rgb(Axes.GRID);
    private static final int MINOR_GRID = rgb(Axes.MINOR_GRID);

    private static double variance(double[] v, int from) {
        double mean = 0;
        for (int i = from; i < v.length; i++) {
            mean += v[i];
        }
        mean /= v.length - from;
        double var = 0;
        for (int i = from; i < v.length; i++) {
            var += (v[i] - mean) * (v[i] - mean);
        }
        return var / (v.length - from);
    }

    /** Clearly red: an opaque or nearly opaque stroke of {@link #RED}, also where antialiasing blends its edge. */
    private static boolean reddish(int rgb) {
        return (rgb >> 16 & 0xFF) - (rgb >> 8 & 0xFF) > 100;
    }

    @Test
    void emaReducesTheVarianceOfNoise() {
        Random rnd = new Random(3);
        double[] y = new double[5000];
        for (int i = 0; i < y.length; i++) {
            y[i] = 1 + 0.5 * rnd.nextGaussian();
        }
        double[] s = LineChart.ema(y, 0.9);
        // White noise through an EMA with weight w keeps (1 − w)/(1 + w) ≈ 5% of its variance.
        double ratio = variance(s, 100) / variance(y, 100);
        assertEquals((1 - 0.9) / (1 + 0.9), ratio, 0.015);
        double mean = 0;
        for (int i = 100; i < s.length; i++) {
            mean += s[i] / (s.length - 100);
        }
        assertEquals(1, mean, 0.02);
    }

    @Test
    void emaIsBiasCorrectedAndSkipsGaps() {
        double[] s = LineChart.ema(new double[] {3, 3, Double.NaN, 3, Double.POSITIVE_INFINITY, 3}, 0.99);
        assertEquals(3, s[0], 1e-12);
        assertEquals(3, s[1], 1e-12);
        assertTrue(Double.isNaN(s[2]));
        assertEquals(3, s[3], 1e-12);
        assertTrue(Double.isNaN(s[4]));
        assertEquals(3, s[5], 1e-12);
        double[] two = LineChart.ema(new double[] {0, 10}, 0.5);
        // s1 = 0, s2 = 0.5·0 + 0.5·10 = 5, corrected by 1 − 0.25: 6.667.
        assertEquals(5 / 0.75, two[1], 1e-12);
        assertArrayEquals(new double[] {4, -1, 7}, LineChart.ema(new double[] {4, -1, 7}, 0), 0);
        assertThrows(DiffusionException.class, () -> LineChart.ema(new double[] {1}, 1.0));
    }

    @Test
    void emaWeightAppliesPerStepOfX() {
        Random rnd = new Random(4);
        double[] y = new double[50];
        double[] x = new double[50];
        double[] sparseX = new double[50];
        for (int i = 0; i < y.length; i++) {
            y[i] = rnd.nextGaussian();
            x[i] = 20 * i;
            sparseX[i] = 1000 * i;
        }
        assertArrayEquals(LineChart.ema(y, 0.9), LineChart.ema(x, y, 0.9, 20), 1e-12);
        // 50 steps per point: weight 0.9^50 ≈ 0.005, so the average follows the data almost exactly.
        double[] sparse = LineChart.ema(sparseX, y, 0.9, 20);
        double w = Math.pow(0.9, 50);
        for (int i = 1; i < y.length; i++) {
            assertEquals(y[i], sparse[i], 0.05 * (Math.abs(y[i]) + 1) + 10 * w);
        }
    }

    @Test
    void logAxisPlacesDecadesAtEqualSpacing() {
        // Isolated values (NaN between them) are drawn as dots at x = 0, 2, 4 and y = 1, 10, 100.
        double nan = Double.NaN;
        Figure f = LineChart.builder().logY(true).title("log")
                .series("decades", new double[] {0, 1, 2, 3, 4}, new double[] {1, nan, 10, nan, 100}, RED).figure();
        PlotArea a = f.area();
        assertTrue(a.logY());
        double[] centres = new double[3];
        for (int k = 0; k < 3; k++) {
            int column = (int) a.pixelX(2 * k);
            double sum = 0;
            int n = 0;
            for (int y = a.y(); y < a.y() + a.height(); y++) {
                for (int x = column - 1; x <= column + 1; x++) {
                    if (rgb(f.image(), x, y) == 0xFF0000) {
                        sum += y;
                        n++;
                    }
                }
            }
            assertTrue(n > 0, "no dot at x = " + 2 * k);
            centres[k] = sum / n;
            assertEquals(a.pixelY(Math.pow(10, k)), centres[k] + 0.5, 1.0);
        }
        assertTrue(centres[0] > centres[1] && centres[1] > centres[2], "larger values must be higher");
        assertEquals(centres[0] - centres[1], centres[1] - centres[2], 1.0);
        assertEquals((centres[0] - centres[1]) * 0.5 + centres[1], a.pixelY(Math.sqrt(10)) - 0.5, 1.0);
    }

    @Test
    void logGridLinesSitWhereLog10PutsTheirValues() {
        double lo = 0.45;
        double hi = 250;
        Figure f = LineChart.builder().logY(true).yRange(lo, hi).figure();
        PlotArea a = f.area();
        assertEquals(new Bounds(0, 1, lo, hi), a.bounds());
        // The row holding value v: v sits log10(v / lo) / log10(hi / lo) of the way up the plot.
        DoubleUnaryOperator row = v -> Math.floor(a.y() + a.height()
                - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * a.height());
        // 2.7 decades: major lines at the powers of ten, minor ones at 2..9 × 10^k in between.
        Set<Integer> major = new TreeSet<>();
        for (double v : new double[] {1, 10, 100}) {
            major.add((int) row.applyAsDouble(v));
        }
        Set<Integer> minor = new TreeSet<>();
        for (double decade : new double[] {0.1, 1, 10, 100}) {
            for (int m = 2; m <= 9; m++) {
                if (m * decade > lo && m * decade < hi) {
                    minor.add((int) row.applyAsDouble(m * decade));
                }
            }
        }
        BufferedImage img = f.image();
        // A column between the vertical grid lines, which are grid-coloured from top to bottom.
        int column = IntStream.range(a.x() + 1, a.x() + a.width())
                .filter(x -> count(img, new Rectangle(x, a.y(), 1, a.height()), c -> c == GRID) < a.height() / 2)
                .findFirst().orElseThrow();
        Set<Integer> majorSeen = new TreeSet<>();
        Set<Integer> minorSeen = new TreeSet<>();
        for (int y = a.y(); y < a.y() + a.height(); y++) {
            int c = rgb(img, column, y);
            if (c == GRID) {
                majorSeen.add(y);
            } else if (c == MINOR_GRID) {
                minorSeen.add(y);
            } else {
                assertEquals(Integer.toHexString(PLOT), Integer.toHexString(c), "row " + y);
            }
        }
        assertEquals(major, majorSeen);
        assertEquals(minor, minorSeen);
    }

    @Test
    void logAxisSkipsNonPositiveValues() {
        Figure f = LineChart.builder().logY(true)
                .series("loss", new double[] {0, 1, 2, 3}, new double[] {1, 0, -5, 10}).figure();
        Bounds b = f.area().bounds();
        // Only (0, 1) and (3, 10) are drawable: x spans exactly them, y them plus 5% of the decade.
        assertEquals(0, b.xMin(), 0);
        assertEquals(3, b.xMax(), 0);
        assertEquals(Math.pow(10, -0.05), b.yMin(), 1e-12);
        assertEquals(Math.pow(10, 1.05), b.yMax(), 1e-12);
        assertThrows(DiffusionException.class, () -> LineChart.builder().logY(true).yRange(0, 1).build());
    }

    @Test
    void smoothingDrawsATrendOverTheLightRawLine() {
        Random rnd = new Random(9);
        double[] y = new double[600];
        for (int i = 0; i < y.length; i++) {
            y[i] = 1 + (rnd.nextBoolean() ? 0.5 : -0.5) * rnd.nextDouble();
        }
        Figure f = LineChart.builder().smoothing(0.97).legend(false).series("noisy", null, y, RED).figure();
        PlotArea a = f.area();
        int strong = 0;
        int light = 0;
        double bandTop = a.pixelY(1.2) - 3;
        double bandBottom = a.pixelY(0.8) + 3;
        // Skip the first 20% of x, where the average has seen few values.
        for (int x = a.x() + a.width() / 5; x < a.x() + a.width(); x++) {
            for (int yy = a.y(); yy < a.y() + a.height(); yy++) {
                int c = rgb(f.image(), x, yy);
                if (within(c, 0xFF0000, 4)) {
                    strong++;
                    assertTrue(yy >= bandTop && yy <= bandBottom, "opaque line pixel at y = " + yy + " is off the trend");
                } else if ((c >> 16 & 0xFF) > 200 && (c >> 8 & 0xFF) < 215 && (yy < bandTop || yy > bandBottom)) {
                    light++;
                }
            }
        }
        assertTrue(strong > a.width() / 2, "smoothed line missing: " + strong + " pixels");
        assertTrue(light > 100, "raw line missing outside the trend band: " + light + " pixels");
    }

    @Test
    void aSinglePointIsADotAndAConstantSeriesIsCentred() {
        Figure one = LineChart.builder().series("one", new double[] {5}, new double[] {3}, RED).figure();
        PlotArea a = one.area();
        assertTrue(a.bounds().contains(5, 3));
        assertEquals(0xFF0000, rgb(one.image(), (int) a.pixelX(5), (int) a.pixelY(3)));
        assertEquals(a.x() + a.width() / 2.0, a.pixelX(5), 1e-9);

        Figure flat = LineChart.builder().series("flat", new double[] {2, 2, 2, 2}).figure();
        Bounds fb = flat.area().bounds();
        assertTrue(fb.yMin() < 2 && fb.yMax() > 2);
        assertEquals(2, (fb.yMin() + fb.yMax()) / 2, 1e-12);
    }

    @Test
    void aNaNLeavesAGapBetweenItsNeighbours() {
        double[] x = {0, 1, 2, 3, 4};
        Figure gap = LineChart.builder().legend(false).series("gap", x, new double[] {1, 2, Double.NaN, 4, 5}, RED).figure();
        Figure joined = LineChart.builder().legend(false).series("joined", x, new double[] {1, 2, 3, 4, 5}, RED).figure();
        PlotArea a = gap.area();
        assertEquals(a, joined.area());
        // Along the straight segment from (1, 2) to (3, 4), away from the round ends drawn at the
        // neighbours: nothing but plot background and grid, where the unbroken series is red.
        double x0 = a.pixelX(1);
        double y0 = a.pixelY(2);
        double x1 = a.pixelX(3);
        double y1 = a.pixelY(4);
        int checked = 0;
        for (int i = 0; i <= 200; i++) {
            double px = x0 + (x1 - x0) * i / 200;
            double py = y0 + (y1 - y0) * i / 200;
            if (Math.hypot(px - x0, py - y0) < 4 || Math.hypot(px - x1, py - y1) < 4) {
                continue;
            }
            int c = rgb(gap.image(), (int) px, (int) py);
            assertTrue(c == PLOT || c == GRID || c == MINOR_GRID, "gap bridged at " + (int) px + "," + (int) py + ": " + Integer.toHexString(c));
            assertTrue(reddish(rgb(joined.image(), (int) px, (int) py)), "the unbroken line misses " + (int) px + "," + (int) py);
            checked++;
        }
        assertTrue(checked > 150, checked + " points checked");
    }

    @Test
    void legendShowsEachNamedSeriesInOrderInItsColour() {
        double[] x = {0, 1, 2, 3};
        // The lines stay in the bottom eighth, clear of the legend in the top-right corner.
        LineChart.Builder b = LineChart.builder().yRange(0, 10)
                .series("train", x, new double[] {1, 0.8, 0.6, 0.5})
                .series("validation", x, new double[] {1.2, 1, 0.9, 0.9})
                .series(" ", x, new double[] {0.3, 0.3, 0.2, 0.2});
        Figure shown = b.figure();
        PlotArea a = shown.area();
        Rectangle corner = new Rectangle(a.x() + a.width() / 2, a.y(), a.width() / 2, a.height() / 3);
        Rectangle train = extent(shown.image(), corner, Palette.series(0));
        Rectangle validation = extent(shown.image(), corner, Palette.series(1));
        assertNotNull(train, "no legend swatch for the first series");
        assertNotNull(validation, "no legend swatch for the second series");
        assertTrue(train.getMaxY() <= validation.getMinY(), "rows out of order: " + train + " " + validation);
        assertTrue(train.width > train.height, "a line series gets a stroke, not a dot: " + train);
        assertNull(extent(shown.image(), corner, Palette.series(2)), "a series without a name got a legend row");

        Figure hidden = b.legend(false).figure();
        assertEquals(0, count(hidden.image(), corner, c -> c != PLOT && c != GRID && c != MINOR_GRID), "legend drawn while off");
    }

    @Test
    void fixedRangesReplaceTheDataRangeOnTheirAxisOnly() {
        double[] x = {2, 3, 4};
        double[] y = {1, 3, 2};
        // The data's range: x exactly, y with 5% of its span on both sides.
        Bounds onlyX = LineChart.builder().xRange(0, 10).series("s", x, y).figure().area().bounds();
        assertArrayEquals(new double[] {0, 10, 0.9, 3.1}, new double[] {onlyX.xMin(), onlyX.xMax(), onlyX.yMin(), onlyX.yMax()}, 1e-12);
        Bounds onlyY = LineChart.builder().yRange(-5, 5).series("s", x, y).figure().area().bounds();
        assertEquals(new Bounds(2, 4, -5, 5), onlyY);
        Bounds both = new Bounds(-1, 1, 7, 8);
        assertEquals(both, LineChart.builder().bounds(both).series("s", x, y).figure().area().bounds());
        assertEquals(LineChart.builder().series("s", x, y).figure().area().bounds(),
                LineChart.builder().bounds(both).bounds(null).series("s", x, y).figure().area().bounds(), "bounds(null) frees both axes");

        // Data beyond a fixed range is cut at the plot area's edge, never drawn over the margins.
        Figure cut = LineChart.builder().legend(false).xRange(2.5, 3.5).series("s", x, y, RED).figure();
        Rectangle plot = Pixels.of(cut.area());
        assertTrue(count(cut.image(), plot, LineChartTest::reddish) > 50, "the line inside the range is missing");
        Rectangle image = whole(cut.image());
        int outside = count(cut.image(), image, LineChartTest::reddish) - count(cut.image(), plot, LineChartTest::reddish);
        assertEquals(0, outside, "red pixels outside the plot area");
    }

    @Test
    void defaultSizeEmptyChartsAndValidation() {
        BufferedImage img = LineChart.builder().series("a", new double[] {1, 2, 3}).render();
        assertEquals(800, img.getWidth());
        assertEquals(480, img.getHeight());
        Figure empty = LineChart.builder().size(300, 200).title("no data").figure();
        assertEquals(300, empty.image().getWidth());
        assertEquals(200, empty.image().getHeight());
        // Without drawable data the axes show the unit range (a decade on a log axis).
        assertEquals(new Bounds(0, 1, 0, 1), empty.area().bounds());
        assertEquals(new Bounds(0, 1, 1, 10), LineChart.builder().logY(true)
                .series("none", new double[] {Double.NaN, -1}).figure().area().bounds());
        assertThrows(DiffusionException.class, () -> LineChart.builder().series("a", new double[] {1, 2}, new double[] {1}));
        assertThrows(DiffusionException.class, () -> LineChart.builder().smoothing(1));
        assertThrows(DiffusionException.class, () -> LineChart.builder().size(159, 400));
        assertThrows(DiffusionException.class, () -> LineChart.builder().xRange(1, 1));
        assertThrows(DiffusionException.class, () -> LineChart.builder().yRange(0, Double.NaN));
    }
}
