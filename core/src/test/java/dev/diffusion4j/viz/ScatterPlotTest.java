package dev.diffusion4j.viz;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.data.Toy2D;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ScatterPlotTest {

    private static float[] sample(Toy2D set, long seed, int n) {
        try (Scope s = Scope.open()) {
            return set.sample(new Generator(seed), n).toFloatArray();
        }
    }

    /** ∇ log of the mixture convolved with N(0, σ²I): Σ r_k (μ_k − x) / (s_k² + σ²), r_k the responsibilities. */
    private static float[] mixtureScore(GaussianMixture gm, float[] xy, double sigma) {
        double[][] mu = gm.means();
        double[] sd = gm.stds();
        double[] w = gm.weights();
        float[] out = new float[xy.length];
        for (int i = 0; i < xy.length; i += 2) {
            double[] logp = new double[mu.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < mu.length; k++) {
                double v = sd[k] * sd[k] + sigma * sigma;
                double dx = xy[i] - mu[k][0];
                double dy = xy[i + 1] - mu[k][1];
                logp[k] = Math.log(w[k]) - Math.log(v) - (dx * dx + dy * dy) / (2 * v);
                max = Math.max(max, logp[k]);
            }
            double z = 0;
            double sx = 0;
            double sy = 0;
            for (int k = 0; k < mu.length; k++) {
                double r = Math.exp(logp[k] - max);
                double v = sd[k] * sd[k] + sigma * sigma;
                z += r;
                sx += r * (mu[k][0] - xy[i]) / v;
                sy += r * (mu[k][1] - xy[i + 1]) / v;
            }
            out[i] = (float) (sx / z);
            out[i + 1] = (float) (sy / z);
        }
        return out;
    }


    private static final Color RED = new Color(255, 0, 0);
    private static final Color GREEN = new Color(0, 160, 0);

    private static ScatterPlot.Builder exact() {
        // Opaque dots of a known size and colour, so pixel values are exact inside each dot.
        return ScatterPlot.builder().bounds(new Bounds(-2, 2, -2, 2)).color(RED).pointAlpha(1).pointRadius(4);
    }

    private static boolean sameImage(BufferedImage a, BufferedImage b) {
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            return false;
        }
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                if (a.getRGB(x, y) != b.getRGB(x, y)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static int rgb(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xFFFFFF;
    }

    @Test
    void plotAreaMapsBoundsOntoItsEdges() {
        PlotArea a = new PlotArea(50, 30, 400, 200, new Bounds(-1, 3, 10, 20), false);
        assertEquals(50, a.pixelX(-1), 1e-12);
        assertEquals(450, a.pixelX(3), 1e-12);
        assertEquals(150, a.pixelX(0), 1e-12);
        assertEquals(30, a.pixelY(20), 1e-12);
        assertEquals(230, a.pixelY(10), 1e-12);
        assertEquals(180, a.pixelY(12.5), 1e-12);
    }

    @Test
    void aPointColoursThePixelsAroundItsDataCoordinate() {
        Figure f = exact().title("one point").build().figure(new float[] {0.7f, -1.3f}, null, null);
        PlotArea a = f.area();
        // Square bounds must give a square plot area: one data unit, one length on both axes.
        assertEquals(a.width(), a.height(), 1);
        assertEquals(new Bounds(-2, 2, -2, 2), a.bounds());
        double px = a.pixelX(0.7);
        double py = a.pixelY(-1.3);
        // The mapping puts x = 0.7 right of centre and y = -1.3 below it (pixel y grows downwards).
        assertEquals(a.x() + a.width() * 2.7 / 4, px, 1e-9);
        assertEquals(a.y() + a.height() * 3.3 / 4, py, 1e-9);

        BufferedImage img = f.image();
        int red = 0;
        for (int y = a.y(); y < a.y() + a.height(); y++) {
            for (int x = a.x(); x < a.x() + a.width(); x++) {
                if (rgb(img, x, y) == 0xFF0000) {
                    red++;
                    assertTrue(Math.hypot(x + 0.5 - px, y + 0.5 - py) <= 4.0, "red pixel " + x + "," + y + " outside the dot");
                }
            }
        }
        // A disc of radius 4 fully covers about π·(4 − 0.7)² ≈ 34 pixels (edge pixels are blended).
        assertTrue(red >= 28 && red <= 51, red + " red pixels");
        assertEquals(0xFF0000, rgb(img, (int) px, (int) py));
        assertEquals(Axes.PLOT_BACKGROUND.getRGB() & 0xFFFFFF, rgb(img, (int) px + 7, (int) py));
    }

    @Test
    void backgroundPointsAreDrawnUnderTheForeground() {
        float[] at = {0.5f, 0.5f};
        ScatterPlot bgOnly = exact().background(at).backgroundColor(GREEN).build();
        ScatterPlot both = exact().background(at).backgroundColor(GREEN).build();
        Figure under = bgOnly.figure(null, null, null);
        Figure over = both.figure(at, null, null);
        PlotArea a = over.area();
        int x = (int) a.pixelX(0.5);
        int y = (int) a.pixelY(0.5);
        int plotBackground = Axes.PLOT_BACKGROUND.getRGB() & 0xFFFFFF;
        // The background layer alone is visible there, green-tinted ...
        int g = rgb(under.image(), x, y);
        assertNotEquals(plotBackground, g);
        assertTrue(((g >> 8) & 0xFF) > ((g >> 16) & 0xFF), "background dot should be greenish: " + Integer.toHexString(g));
        // ... and an opaque foreground dot drawn after it covers it completely.
        assertEquals(0xFF0000, rgb(over.image(), x, y));
    }

    @Test
    void pointsOutsideTheBoundsOrNotFiniteLeaveThePlotUntouched() {
        ScatterPlot plot = exact().title("skips").build();
        BufferedImage empty = plot.render(new float[0]);
        float[] skipped = {
            2.01f, 0, -2.2f, 0, 0, 2.05f, 0, -3, 100, 100,
            Float.NaN, 0, 0, Float.NaN, Float.POSITIVE_INFINITY, 0, 0, Float.NEGATIVE_INFINITY, Float.NaN, Float.NaN,
        };
        assertTrue(sameImage(empty, plot.render(skipped)), "skipped points changed the image");
        // Not vacuous: a point just inside the border does show.
        assertFalse(sameImage(empty, plot.render(new float[] {1.99f, 0})));
    }

    @Test
    void framesShareAxesAndLayout() {
        List<float[]> sets = List.of(new float[] {0, 0, 0.2f, 0.1f}, new float[] {10, 10, 9.8f, 9.9f});
        ScatterPlot plot = ScatterPlot.builder().color(RED).pointAlpha(1).build();
        List<BufferedImage> frames = plot.frames(sets, Arrays.asList("step 1", null));
        assertEquals(2, frames.size());
        // On shared axes the first cloud sits low-left and the second high-right; each on its own
        // axes would be centred.
        double[] c0 = redCentroid(frames.get(0));
        double[] c1 = redCentroid(frames.get(1));
        assertTrue(c0[0] < 320 && c0[1] > 320, "frame 0 centroid " + Arrays.toString(c0));
        assertTrue(c1[0] > 320 && c1[1] < 320, "frame 1 centroid " + Arrays.toString(c1));
        // A frame without a subtitle keeps the blank line, so the plot does not jump: the
        // lower part of both frames (grid and tick labels) is identical once the dots are gone.
        List<BufferedImage> blank = plot.frames(List.of(new float[0], new float[0]), Arrays.asList("step 1", null));
        BufferedImage a = blank.get(0);
        BufferedImage b = blank.get(1);
        for (int y = 100; y < 640; y++) {
            for (int x = 0; x < 640; x++) {
                assertEquals(a.getRGB(x, y), b.getRGB(x, y), "pixel " + x + "," + y);
            }
        }
        assertThrows(DiffusionException.class, () -> plot.frames(sets, List.of("only one")));
    }

    private static double[] redCentroid(BufferedImage img) {
        double sx = 0;
        double sy = 0;
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if (rgb(img, x, y) == 0xFF0000) {
                    sx += x;
                    sy += y;
                    n++;
                }
            }
        }
        assertTrue(n > 0, "no red pixel");
        return new double[] {sx / n, sy / n};
    }

    @Test
    void imagesHaveTheRequestedSize() {
        BufferedImage d = ScatterPlot.builder().build().render(new float[] {0, 1, 1, 0});
        assertEquals(640, d.getWidth());
        assertEquals(640, d.getHeight());
        BufferedImage r = ScatterPlot.builder().size(500, 300).title("wide").axisLabels("x", "y").build().render(new float[] {0, 1});
        assertEquals(500, r.getWidth());
        assertEquals(300, r.getHeight());
        assertThrows(DiffusionException.class, () -> ScatterPlot.builder().size(20, 20));
    }

    @Test
    void tensorOverloadRendersTheSameAsArrays() {
        float[] xy = {0.5f, 1, -1, -0.5f, 1.5f, 0};
        ScatterPlot plot = exact().build();
        try (Scope s = Scope.open()) {
            assertTrue(sameImage(plot.render(xy, "t"), plot.render(Tensor.of(xy, 3, 2), "t")));
            assertThrows(DiffusionException.class, () -> plot.render(Tensor.of(xy, 6)));
        }
    }

    @Test
    void arrowsAreCentredOnTheirPositionsAndCappedToTheirCell() {
        Bounds b = new Bounds(-1, 1, -1, 1);
        float[] grid = VectorField.grid(b, 5, 5);
        float[] vectors = new float[grid.length];
        for (int i = 0; i < vectors.length; i += 2) {
            vectors[i] = 1;
        }
        int centre = 2 * (2 * 5 + 2);
        assertEquals(0f, grid[centre]);
        assertEquals(0f, grid[centre + 1]);
        vectors[centre] = 1e6f;
        VectorField field = VectorField.of(grid, vectors);
        assertEquals(0.4, field.spacing(), 1e-6);
        Figure f = ScatterPlot.builder().bounds(b).build().figure(null, null, field);
        PlotArea a = f.area();
        int row = (int) a.pixelY(0);
        int cx = (int) a.pixelX(0);
        double pxPerUnit = a.width() / 2.0;
        // The capped arrow spans ±0.85·0.4/2 = ±0.17 data units around its grid point: dark pixels
        // on both sides of the centre, and none in the gaps before the neighbours' arrows begin.
        assertTrue(dark(f.image(), cx - (int) (0.12 * pxPerUnit), row), "no shaft left of the centre");
        assertTrue(dark(f.image(), cx + (int) (0.12 * pxPerUnit), row), "no head right of the centre");
        for (double u = 0.19; u <= 0.21; u += 0.005) {
            assertFalse(dark(f.image(), (int) a.pixelX(u), row), "arrow runs past its cell at x = " + u);
            assertFalse(dark(f.image(), (int) a.pixelX(-u), row), "arrow runs past its cell at x = " + -u);
        }
        // Arrows are horizontal: nothing dark a few pixels above the centre arrow's shaft.
        assertFalse(dark(f.image(), cx - (int) (0.1 * pxPerUnit), row - 8));
    }

    /** Whether a pixel is about as dark as an arrow (grid lines and the background are light). */
    private static boolean dark(BufferedImage img, int x, int y) {
        int c = rgb(img, x, y);
        return ((c >> 16 & 0xFF) + (c >> 8 & 0xFF) + (c & 0xFF)) / 3 < 170;
    }

    @Test
    void writesSamplePictures() {
        float[] data = sample(Toy2D.SWISSROLL, 1, 5000);
        float[] samples = sample(Toy2D.SWISSROLL, 2, 3000);
        Random rnd = new Random(3);
        for (int i = 0; i < samples.length; i++) {
            samples[i] += (float) (0.12 * rnd.nextGaussian());
        }
        ScatterPlot plot = ScatterPlot.builder()
                .title("Swiss roll — DDPM samples")
                .axisLabels("x₁", "x₂")
                .background(data, "data (5,000)")
                .label("samples (3,000)")
                .build();
        VizSamples.write("scatter-swissroll", plot.render(samples, "t = 0 / 1000   ᾱ = 0.9999   1000 steps"));

        GaussianMixture gm = Toy2D.EIGHT_GAUSSIANS.mixture().orElseThrow();
        float[] pts = sample(Toy2D.EIGHT_GAUSSIANS, 4, 2000);
        Bounds b = Bounds.of(pts).square();
        float[] grid = VectorField.grid(b, 21, 21);
        VectorField field = VectorField.of(grid, mixtureScore(gm, grid, 0.5));
        ScatterPlot quiver = ScatterPlot.builder().title("Score field ∇log p_σ(x), σ = 0.5").bounds(b).label("data").build();
        VizSamples.write("scatter-quiver", quiver.figure(pts, null, field).image());

        float[] noise = new float[6000];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) rnd.nextGaussian();
        }
        List<float[]> frames = new ArrayList<>();
        List<String> subs = new ArrayList<>();
        float[] target = sample(Toy2D.MOONS, 5, 3000);
        for (int f = 0; f <= 4; f++) {
            double a = f / 4.0;
            float[] mix = new float[6000];
            for (int i = 0; i < mix.length; i++) {
                mix[i] = (float) (a * target[i] + Math.sqrt(1 - a * a) * noise[i]);
            }
            frames.add(mix);
            subs.add("frame " + f);
        }
        List<BufferedImage> imgs = ScatterPlot.builder().title("Moons: noise to data").size(360, 360).build().frames(frames, subs);
        VizSamples.write("scatter-small-frame", imgs.get(2));
    }
}
