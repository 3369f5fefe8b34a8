package dev.diffusion4j.viz;

import static org.junit.jupiter.api.Assertions.*;

import dev.diffusion4j.DiffusionException;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AxesTest {

    /** A frame of the given size and texts over {@code bounds}, legend on and no fixed ranges. */
    private static Axes.Spec spec(int width, int height, String title, String subtitle, String xLabel, String yLabel,
                                  Bounds bounds, boolean logY, boolean equalAspect) {
        return new Axes.Spec(new ChartSpec(width, height, title, subtitle, xLabel, yLabel, true, null, null), bounds, logY, equalAspect);
    }

    @Test
    void tickLabelsNeverOverlapAndStayInTheImage() {
        Random rnd = new Random(17);
        Graphics2D g = Viz.graphics(Viz.image(1, 1));
        for (int trial = 0; trial < 1000; trial++) {
            int w = 200 + rnd.nextInt(1400);
            int h = 200 + rnd.nextInt(1000);
            boolean log = rnd.nextInt(3) == 0;
            boolean equal = !log && rnd.nextBoolean();
            double scale = Math.pow(10, rnd.nextInt(16) - 8);
            double lo = log ? scale * (0.01 + rnd.nextDouble()) : (rnd.nextDouble() * 20 - 10) * scale;
            double hi = log ? lo * Math.pow(10, 0.05 + rnd.nextDouble() * 9) : lo + (0.001 + rnd.nextDouble() * 50) * scale;
            // Large offsets with small spans make long labels ("1234.0015"), the hard case for overlap.
            double xScale = Math.pow(10, rnd.nextInt(12) - 6);
            double xLo = (rnd.nextDouble() * 2e4 - 1e4) * (rnd.nextBoolean() ? 1 : xScale);
            Bounds b = new Bounds(xLo, xLo + xScale * (0.5 + rnd.nextDouble() * 100), lo, hi);
            Axes.Spec spec = spec(w, h, "title", rnd.nextBoolean() ? "subtitle" : null, "x", "y", b, log, equal);
            Axes.Layout l = Axes.layout(g, spec);
            PlotArea a = l.area();
            FontMetrics fm = g.getFontMetrics(l.style().tick);
            String where = "trial " + trial + " " + spec;

            assertTrue(a.x() > 0 && a.y() > 0 && a.x() + a.width() < w && a.y() + a.height() < h, where);
            assertTrue(a.height() > (equal ? h / 10 : h / 3) && a.width() > (equal ? w / 10 : w / 3), "plot area too small: " + a + " " + where);
            double previousRight = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < l.xTicks().length; i++) {
                double c = a.pixelX(l.xTicks()[i]);
                double half = fm.stringWidth(l.xTickLabels()[i]) / 2.0;
                assertTrue(c - half > previousRight + 4, "x labels overlap: " + String.join(" ", l.xTickLabels()) + " " + where);
                assertTrue(c - half >= 0 && c + half <= w, "x label outside the image: " + where);
                previousRight = c + half;
            }
            double lineHeight = fm.getAscent() + fm.getDescent();
            for (int i = 0; i + 1 < l.yTicks().length; i++) {
                assertTrue(Math.abs(a.pixelY(l.yTicks()[i]) - a.pixelY(l.yTicks()[i + 1])) >= lineHeight,
                        "y labels overlap: " + String.join(" ", l.yTickLabels()) + " " + where);
            }
            for (int i = 0; i < l.yTicks().length; i++) {
                assertTrue(a.x() - fm.stringWidth(l.yTickLabels()[i]) > 0, "y label outside the image: " + where);
                assertEquals(l.yTickLabels()[i], l.yTickLabels()[i].strip());
            }
            // Two labels need room: a plot squeezed narrow by equal aspect may show only one
            // 11-character label like "−8044.37500", but any plot of reasonable size shows two.
            if (a.width() >= 400) {
                assertTrue(l.xTicks().length >= 2, "fewer than 2 x ticks: " + where);
            }
            if (a.height() >= 200) {
                assertTrue(l.yTicks().length >= 2, "fewer than 2 y ticks: " + where);
            }
            // Labels are distinct: the precision follows the step.
            assertEquals(l.xTickLabels().length, java.util.Set.of(l.xTickLabels()).size(), where);
            assertEquals(l.yTickLabels().length, java.util.Set.of(l.yTickLabels()).size(), where);
            assertLabelsName(l.xTicks(), l.xTickLabels(), where);
            assertLabelsName(l.yTicks(), l.yTickLabels(), where);
        }
        g.dispose();
    }

    /**
     * Each label, read as a number (with the typographic minus), is its tick's value to within half
     * the distance to the nearest other tick: rounded for display, never another tick's label.
     */
    private static void assertLabelsName(double[] ticks, String[] labels, String where) {
        for (int i = 0; i < ticks.length; i++) {
            assertFalse(labels[i].contains("-") && !labels[i].contains("e-"), "hyphen instead of a minus in " + labels[i] + " " + where);
            double read = Double.parseDouble(labels[i].replace('\u2212', '-'));
            double gap = Double.POSITIVE_INFINITY;
            for (int j = 0; j < ticks.length; j++) {
                gap = j == i ? gap : Math.min(gap, Math.abs(ticks[j] - ticks[i]));
            }
            double slack = Double.isInfinite(gap) ? Math.abs(ticks[i]) * 0.05 : gap / 2;
            assertEquals(ticks[i], read, slack, "label " + labels[i] + " for tick " + ticks[i] + " " + where);
        }
    }

    @Test
    void logAxisTicksAndLabelsAreThePowersOfTen() {
        Graphics2D g = Viz.graphics(Viz.image(1, 1));
        // 2.7 decades: too many for 1-2-5 steps, so one labelled line per decade.
        Axes.Layout l = Axes.layout(g, spec(800, 480, null, null, null, null, new Bounds(0, 1, 0.45, 250), true, false));
        assertArrayEquals(new double[] {1, 10, 100}, l.yTicks(), 0);
        assertArrayEquals(new String[] {"1", "10", "100"}, l.yTickLabels());
        // Below a decade and a half: 1-2-5 steps, each labelled with its own decade's precision.
        Axes.Layout fine = Axes.layout(g, spec(800, 480, null, null, null, null, new Bounds(0, 1, 0.015, 0.6), true, false));
        assertArrayEquals(new String[] {"0.02", "0.05", "0.1", "0.2", "0.5"}, fine.yTickLabels());
        g.dispose();
    }

    @Test
    void equalAspectGivesSquareCellsWithEqualSteps() {
        Graphics2D g = Viz.graphics(Viz.image(1, 1));
        Axes.Spec spec = spec(800, 500, "t", null, null, null, new Bounds(-4, 4, -1, 1), false, true);
        Axes.Layout l = Axes.layout(g, spec);
        PlotArea a = l.area();
        assertEquals(4.0, (double) a.width() / a.height(), 0.05);
        assertEquals(l.xTicks()[1] - l.xTicks()[0], l.yTicks()[1] - l.yTicks()[0], 1e-12);
        // Bounds 1000 times wider than tall would leave a sliver; the area is filled instead.
        Axes.Layout wide = Axes.layout(g, spec(800, 500, "t", null, null, null, new Bounds(0, 1000, 0, 1), false, true));
        assertTrue(wide.area().height() > 300, wide.area().toString());
        g.dispose();
    }

    @Test
    void tooSmallForTheLabelsIsAUserError() {
        Graphics2D g = Viz.graphics(Viz.image(1, 1));
        Axes.Spec spec = spec(60, 40, "a long title", "and a subtitle", "x", "y", new Bounds(0, 1, 0, 1), false, false);
        assertThrows(DiffusionException.class, () -> Axes.layout(g, spec));
        g.dispose();
    }
}
