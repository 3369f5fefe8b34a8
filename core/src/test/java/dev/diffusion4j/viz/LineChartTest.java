package dev.diffusion4j.viz;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LineChartTest {
    private static final Color RED = new Color(255, 0, 0);

    private static int rgb(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xFFFFFF;
    }

    private static boolean near(int rgb, Color c, int tolerance) {
        return Math.abs((rgb >> 16 & 0xFF) - c.getRed()) + Math.abs((rgb >> 8 & 0xFF) - c.getGreen())
                + Math.abs((rgb & 0xFF) - c.getBlue()) <= tolerance;
    }

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
    void logAxisSkipsNonPositiveValues() {
        Figure f = LineChart.builder().logY(true)
                .series("loss", new double[] {0, 1, 2, 3}, new double[] {1, 0, -5, 10}).figure();
        Bounds b = f.area().bounds();
        assertTrue(b.yMin() > 0.5 && b.yMin() < 1, "y range starts at " + b.yMin());
        assertTrue(b.yMax() > 10 && b.yMax() < 20, "y range ends at " + b.yMax());
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
                if (near(c, RED, 12)) {
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
    void singlePointConstantSeriesAndGapsAreDrawable() {
        Figure one = LineChart.builder().series("one", new double[] {5}, new double[] {3}, RED).figure();
        PlotArea a = one.area();
        assertTrue(a.bounds().contains(5, 3));
        assertEquals(0xFF0000, rgb(one.image(), (int) a.pixelX(5), (int) a.pixelY(3)));
        assertEquals(a.x() + a.width() / 2.0, a.pixelX(5), 1e-9);

        Figure flat = LineChart.builder().series("flat", new double[] {2, 2, 2, 2}).figure();
        Bounds fb = flat.area().bounds();
        assertTrue(fb.yMin() < 2 && fb.yMax() > 2);
        assertEquals(2, (fb.yMin() + fb.yMax()) / 2, 1e-12);

        double nan = Double.NaN;
        Figure gap = LineChart.builder().series("gap", new double[] {0, 1, 2, 3, 4}, new double[] {1, 2, nan, 4, 5}, RED).figure();
        PlotArea g = gap.area();
        // Drawn between x = 0 and 1 and between 3 and 4; nothing joins 1 and 3 across the gap.
        assertTrue(near(rgb(gap.image(), (int) g.pixelX(0.5), (int) g.pixelY(1.5)), RED, 60));
        assertTrue(near(rgb(gap.image(), (int) g.pixelX(3.5), (int) g.pixelY(4.5)), RED, 60));
        int across = rgb(gap.image(), (int) g.pixelX(2), (int) g.pixelY(3));
        assertFalse(near(across, RED, 300), "gap was bridged: " + Integer.toHexString(across));
    }

    @Test
    void defaultSizeAndValidation() {
        BufferedImage img = LineChart.builder().series("a", new double[] {1, 2, 3}).render();
        assertEquals(800, img.getWidth());
        assertEquals(480, img.getHeight());
        BufferedImage empty = LineChart.builder().size(300, 200).title("no data").render();
        assertEquals(300, empty.getWidth());
        assertEquals(200, empty.getHeight());
        assertThrows(DiffusionException.class, () -> LineChart.builder().series("a", new double[] {1, 2}, new double[] {1}));
        assertThrows(DiffusionException.class, () -> LineChart.builder().smoothing(1));
    }

    @Test
    void writesSamplePictures() {
        Random rnd = new Random(1);
        int n = 600;
        double[] steps = new double[n];
        double[] loss = new double[n];
        for (int i = 0; i < n; i++) {
            steps[i] = 20.0 * i;
            loss[i] = (0.045 + 0.9 * Math.exp(-steps[i] / 900)) * Math.exp(0.35 * rnd.nextGaussian());
        }
        loss[137] = Double.NaN;
        double[] valSteps = new double[13];
        double[] val = new double[13];
        for (int i = 0; i < val.length; i++) {
            valSteps[i] = 1000.0 * i;
            val[i] = 0.06 + 0.8 * Math.exp(-valSteps[i] / 1000);
        }
        BufferedImage img = LineChart.builder()
                .title("Training loss — MLP on swissroll")
                .subtitle("AdamW lr 1e-3, batch 512, EMA 0.999")
                .axisLabels("step", "loss (ε-MSE)")
                .logY(true)
                .smoothing(0.9)
                .series("train", steps, loss)
                .series("validation", valSteps, val)
                .render();
        VizSamples.write("line-loss-log", img);

        double[] nfe = {1, 2, 5, 10, 20, 50, 100, 200};
        LineChart.Builder b = LineChart.builder().title("Energy distance vs. sampling steps").axisLabels("steps", "energy distance");
        String[] names = {"DDPM", "DDIM (η = 0)", "Euler"};
        for (int k = 0; k < names.length; k++) {
            double[] e = new double[nfe.length];
            for (int i = 0; i < nfe.length; i++) {
                e[i] = 0.004 + (0.8 - 0.2 * k) / Math.pow(nfe[i], 0.8 + 0.25 * k);
            }
            b.series(names[k], nfe, e);
        }
        VizSamples.write("line-linear", b.size(640, 400).render());
    }
}
