package dev.diffusion4j.viz;

import static dev.diffusion4j.viz.Pixels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.awt.Color;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScatterPlotTest {
    private static final Color RED = new Color(255, 0, 0);
    private static final Color GREEN = new Color(0, 160, 0);

    private static ScatterPlot.Builder exact() {
        // Opaque dots of a known size and colour, so pixel values are exact inside each dot.
        return ScatterPlot.builder().bounds(new Bounds(-2, 2, -2, 2)).color(RED).pointAlpha(1).pointRadius(4);
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
        // On a log axis over three decades each decade takes a third of the height.
        PlotArea log = new PlotArea(0, 0, 10, 300, new Bounds(0, 1, 1, 1000), true);
        assertEquals(300, log.pixelY(1), 1e-9);
        assertEquals(200, log.pixelY(10), 1e-9);
        assertEquals(100, log.pixelY(100), 1e-9);
        assertEquals(300 - 100 * Math.log10(2), log.pixelY(2), 1e-9);
    }

    @Test
    void aPointCoversExactlyTheDiscOfItsRadius() {
        ScatterPlot plot = exact().title("one point").build();
        float[] point = {0.7f, -1.3f};
        Figure f = plot.figure(point, null, null);
        PlotArea a = f.area();
        // Square bounds must give a square plot area: one data unit, one length on both axes.
        assertEquals(a.width(), a.height(), 1);
        assertEquals(new Bounds(-2, 2, -2, 2), a.bounds());
        double px = a.pixelX(point[0]);
        double py = a.pixelY(point[1]);
        // The mapping puts x = 0.7 right of centre and y = -1.3 below it (pixel y grows downwards).
        assertEquals(a.x() + a.width() * 2.7 / 4, px, 1e-3);
        assertEquals(a.y() + a.height() * 3.3 / 4, py, 1e-3);

        // Every pixel wholly inside the radius-4 disc around (px, py) is the point's colour, every
        // pixel wholly outside it is what the plot shows without the point; only the ring of
        // pixels the circle crosses is blended. 0.05 px covers the Bézier approximation of the circle.
        BufferedImage without = plot.render(new float[0]);
        double r = 4;
        int inside = 0;
        for (int y = 0; y < f.image().getHeight(); y++) {
            for (int x = 0; x < f.image().getWidth(); x++) {
                double nearX = Math.max(x, Math.min(x + 1, px));
                double nearY = Math.max(y, Math.min(y + 1, py));
                double near = Math.hypot(nearX - px, nearY - py);
                double far = Math.hypot(Math.max(Math.abs(x - px), Math.abs(x + 1 - px)), Math.max(Math.abs(y - py), Math.abs(y + 1 - py)));
                if (far < r - 0.05) {
                    assertEquals(0xFF0000, rgb(f.image(), x, y), "pixel " + x + "," + y + " inside the disc");
                    inside++;
                } else if (near > r + 0.05) {
                    assertEquals(rgb(without, x, y), rgb(f.image(), x, y), "pixel " + x + "," + y + " outside the disc");
                }
            }
        }
        assertTrue(inside >= 28, inside + " pixels wholly inside the disc");
    }

    @Test
    void backgroundDotsBlendUnderAnOpaqueForeground() {
        float[] at = {0.5f, 0.5f};
        ScatterPlot plot = exact().background(at).backgroundColor(GREEN).build();
        Figure under = plot.figure(null, null, null);
        Figure over = plot.figure(at, null, null);
        PlotArea a = over.area();
        int x = (int) a.pixelX(0.5);
        int y = (int) a.pixelY(0.5);
        // A lone reference point gets the reference layer's highest opacity, 0.55 (140/255 in
        // 8 bits), over whatever the plot shows there without it (background or a grid line) ...
        int behind = rgb(exact().build().render(new float[0]), x, y);
        double alpha = 140 / 255.0;
        int expected = 0;
        for (int shift = 0; shift <= 16; shift += 8) {
            double blended = (rgb(GREEN) >> shift & 0xFF) * alpha + (behind >> shift & 0xFF) * (1 - alpha);
            expected |= (int) Math.round(blended) << shift;
        }
        int got = rgb(under.image(), x, y);
        assertTrue(within(got, expected, 1), Integer.toHexString(got) + " is not " + Integer.toHexString(expected));
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
        assertTrue(same(empty, plot.render(skipped)), "skipped points changed the image");
        // Not vacuous: a point just inside the border does show.
        assertFalse(same(empty, plot.render(new float[] {1.99f, 0})));
    }

    @Test
    void framesShareTheBoundsOfAllSetsAndKeepTheLayout() {
        float[] near = {0, 0, 0.2f, 0.1f};
        float[] far = {10, 10, 9.8f, 9.9f};
        ScatterPlot plot = ScatterPlot.builder().color(RED).pointAlpha(1).build();
        List<BufferedImage> frames = plot.frames(List.of(near, far), Arrays.asList("step 1", null));
        assertEquals(2, frames.size());
        // Each frame is exactly a render on the squared union of both sets' bounds; a frame
        // without a subtitle keeps a blank subtitle line so the plot does not jump.
        ScatterPlot shared = ScatterPlot.builder().color(RED).pointAlpha(1)
                .bounds(Bounds.of(near).union(Bounds.of(far)).square()).build();
        assertTrue(same(shared.render(near, "step 1"), frames.get(0)), "frame 0 is not on the shared axes");
        assertTrue(same(shared.render(far, ""), frames.get(1)), "frame 1 is not on the shared axes");
        assertFalse(same(plot.render(far, ""), frames.get(1)), "own axes and shared axes coincide: the test proves nothing");
        assertThrows(DiffusionException.class, () -> plot.frames(List.of(near, far), List.of("only one")));
    }

    @Test
    void imagesHaveTheRequestedSizeAndAnEqualAspectPlot() {
        BufferedImage d = ScatterPlot.builder().build().render(new float[] {0, 1, 1, 0});
        assertEquals(640, d.getWidth());
        assertEquals(640, d.getHeight());
        Figure wide = ScatterPlot.builder().size(500, 300).title("wide").axisLabels("x", "y").bounds(new Bounds(-1, 1, -1, 1))
                .build().figure(new float[] {0, 1}, null, null);
        assertEquals(500, wide.image().getWidth());
        assertEquals(300, wide.image().getHeight());
        // Square bounds in a wide image: a square plot, with room left and right of it.
        assertEquals(wide.area().height(), wide.area().width());
        assertTrue(wide.area().x() > 100, wide.area().toString());
        assertThrows(DiffusionException.class, () -> ScatterPlot.builder().size(20, 20));
    }

    @Test
    void tensorOverloadRendersTheSameAsArrays() {
        float[] xy = {0.5f, 1, -1, -0.5f, 1.5f, 0};
        ScatterPlot plot = exact().build();
        try (Scope s = Scope.open()) {
            assertTrue(same(plot.render(xy, "t"), plot.render(Tensor.of(xy, 3, 2), "t")));
            assertTrue(same(plot.render(xy), plot.render(Tensor.of(xy, 3, 2))));
            assertThrows(DiffusionException.class, () -> plot.render(Tensor.of(xy, 6)));
        }
    }

    @Test
    void legendRowsShowTheReferenceLayerAboveTheSamples() {
        // Points in the bottom-left corner, clear of the legend in the top-right one.
        float[] pts = {-1.5f, -1.5f, -1.2f, -1.6f};
        Bounds b = new Bounds(-2, 2, -2, 2);
        Figure f = ScatterPlot.builder().bounds(b).background(pts, "data").label("samples").build().figure(pts, null, null);
        PlotArea a = f.area();
        Rectangle corner = new Rectangle(a.x() + a.width() / 2, a.y(), a.width() / 2, a.height() / 3);
        // Legend dots are opaque; the layers themselves are translucent, so these colours appear only there.
        Rectangle data = extent(f.image(), corner, Palette.REFERENCE);
        Rectangle samples = extent(f.image(), corner, Palette.BLUE);
        assertNotNull(data, "no legend row for the reference layer");
        assertNotNull(samples, "no legend row for the samples");
        assertTrue(data.getMaxY() < samples.getMinY(), "reference row not above the samples row: " + data + " " + samples);

        // Off, or with only blank labels, there is no legend: the plot equals an unlabelled one.
        BufferedImage plain = ScatterPlot.builder().bounds(b).background(pts).build().render(pts);
        assertFalse(same(plain, f.image()));
        assertTrue(same(plain, ScatterPlot.builder().bounds(b).background(pts, "data").label("samples").legend(false).build().render(pts)));
        assertTrue(same(plain, ScatterPlot.builder().bounds(b).background(pts, " ").label("").build().render(pts)));
    }

    @Test
    void fixedRangesOnOneAxisLeaveTheOtherToTheData() {
        float[] pts = {0, 0, 1, 2, 2, 4};
        Bounds auto = ScatterPlot.builder().build().figure(pts, null, null).area().bounds();
        assertEquals(Bounds.of(pts).square(), auto);
        Bounds onlyX = ScatterPlot.builder().xRange(-10, 10).build().figure(pts, null, null).area().bounds();
        assertEquals(new Bounds(-10, 10, auto.yMin(), auto.yMax()), onlyX);
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
        assertTrue(dark(rgb(f.image(), cx - (int) (0.12 * pxPerUnit), row)), "no shaft left of the centre");
        assertTrue(dark(rgb(f.image(), cx + (int) (0.12 * pxPerUnit), row)), "no head right of the centre");
        for (double u = 0.19; u <= 0.21; u += 0.005) {
            assertFalse(dark(rgb(f.image(), (int) a.pixelX(u), row)), "arrow runs past its cell at x = " + u);
            assertFalse(dark(rgb(f.image(), (int) a.pixelX(-u), row)), "arrow runs past its cell at x = " + -u);
        }
        // Arrows are horizontal: nothing dark a few pixels above the centre arrow's shaft.
        assertFalse(dark(rgb(f.image(), cx - (int) (0.1 * pxPerUnit), row - 8)));
        // They point along +x: a few pixels before the right end the arrow is its wide head,
        // as far from the left end only the thin shaft.
        int head = count(f.image(), new Rectangle((int) a.pixelX(0.17) - 5, row - 10, 1, 21), ScatterPlotTest::dark);
        int tail = count(f.image(), new Rectangle((int) a.pixelX(-0.17) + 5, row - 10, 1, 21), ScatterPlotTest::dark);
        assertTrue(tail >= 1 && head >= tail + 2, "head " + head + " px tall, tail " + tail);
    }

    /** Whether a pixel is about as dark as an arrow (grid lines and the background are light). */
    private static boolean dark(int rgb) {
        return brightness(rgb) < 170;
    }
}
