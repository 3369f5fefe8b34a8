package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.math.BigDecimal;
import java.util.List;

/**
 * The frame around the data of a plot: layout from the image size and the text to fit, then
 * background, grid, tick labels, axis labels, title and legend. One look for every plot type.
 */
final class Axes {
    static final Color FIGURE_BACKGROUND = Color.WHITE;
    static final Color PLOT_BACKGROUND = new Color(0xF6F7F9);
    static final Color GRID = new Color(0xDFE2E7);
    static final Color MINOR_GRID = new Color(0xECEEF1);
    static final Color FRAME = new Color(0xBFC4CC);
    static final Color TEXT = new Color(0x1E2227);
    static final Color MUTED = new Color(0x575E6A);

    /**
     * An equal-aspect plot keeps one data unit the same length on both axes only while that leaves it
     * at least this fraction of the available width and height; beyond it the area is filled.
     */
    static final double MIN_ASPECT_FILL = 0.25;

    private Axes() {
    }

    /**
     * What the frame shows: a chart's shared settings over data {@code bounds}. {@code equalAspect}
     * makes one data unit the same length on both axes.
     */
    record Spec(ChartSpec chart, Bounds bounds, boolean logY, boolean equalAspect) {
    }

    /** The data of a chart, drawn over the background and grid, clipped to the plot area. */
    interface Layer {
        void draw(Graphics2D g, PlotArea area, double scale);
    }

    /**
     * Renders one chart: background and grid, the data, then frame, labels and the legend on top
     * (rows only for labelled items, none at all when the chart's legend is off).
     */
    static Figure draw(Spec spec, Layer data, List<LegendItem> legend) {
        BufferedImage img = Viz.image(spec.chart().width(), spec.chart().height());
        Graphics2D g = Viz.graphics(img);
        try {
            Layout layout = layout(g, spec);
            PlotArea area = layout.area();
            drawBackground(g, spec, layout);
            g.setClip(area.x(), area.y(), area.width(), area.height());
            data.draw(g, area, layout.style().scale);
            g.setClip(null);
            drawFrame(g, spec, layout);
            if (spec.chart().legend()) {
                drawLegend(g, layout, legend.stream().filter(i -> i.label() != null && !i.label().isBlank()).toList());
            }
            return new Figure(img, area);
        } finally {
            g.dispose();
        }
    }

    /** Fonts and spacings grown or shrunk with the image, so a 1600-pixel plot is not all whitespace. */
    static final class Style {
        final double scale;
        final Font title;
        final Font subtitle;
        final Font label;
        final Font tick;
        final Font legend;

        Style(int width, int height) {
            // Proportional to the image's geometric mean size; 620 px plots get the base sizes.
            scale = Math.max(0.8, Math.min(3.0, Math.sqrt((double) width * height) / 620.0));
            Font base = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
            title = base.deriveFont(Font.BOLD, (float) (17 * scale));
            subtitle = base.deriveFont((float) (13 * scale));
            label = base.deriveFont((float) (13.5 * scale));
            tick = base.deriveFont((float) (11.5 * scale));
            legend = base.deriveFont((float) (12.5 * scale));
        }

        int px(double basePixels) {
            return (int) Math.round(basePixels * scale);
        }
    }

    /** The computed placement of the plot rectangle, its ticks and their labels. */
    record Layout(PlotArea area, Style style, double[] xTicks, String[] xTickLabels,
                  double[] yTicks, String[] yTickLabels, double[] yMinorTicks) {
    }

    static Layout layout(Graphics2D g, Spec spec) {
        Style st = new Style(spec.chart().width(), spec.chart().height());
        FontMetrics tickFm = g.getFontMetrics(st.tick);
        FontMetrics labelFm = g.getFontMetrics(st.label);
        int pad = st.px(14);
        int tickGap = st.px(7);
        int tickH = tickFm.getAscent() + tickFm.getDescent();

        int top = pad + Math.max(headerHeight(g, spec, st), tickH / 2);
        int bottom = pad + tickH + tickGap + (present(spec.chart().xLabel()) ? labelFm.getHeight() + st.px(4) : 0);
        int leftFixed = pad + tickGap + (present(spec.chart().yLabel()) ? labelFm.getAscent() + labelFm.getDescent() + st.px(8) : 0);
        int right = pad;

        Layout result = null;
        // The left margin depends on the y labels, which depend on the plot height, and the right
        // margin on how far the last x label sticks out; three rounds settle both.
        for (int round = 0; round < 3; round++) {
            int availH = spec.chart().height() - top - bottom;
            checkRoom(spec, availH);
            Ticked y = yTicks(g, spec, st, availH);
            int left = leftFixed + maxWidth(tickFm, y.labels);
            int x0 = left;
            int y0 = top;
            int w = spec.chart().width() - left - right;
            int h = availH;
            checkRoom(spec, w);
            double aspect = spec.bounds().width() / spec.bounds().height();
            // Bounds far from the area's shape would leave a sliver of a plot; fill the area then.
            boolean keepAspect = spec.equalAspect() && h * aspect >= w * MIN_ASPECT_FILL && w / aspect >= h * MIN_ASPECT_FILL;
            if (keepAspect) {
                if (w > h * aspect) {
                    int fitted = Math.max(1, (int) Math.round(h * aspect));
                    x0 += (w - fitted) / 2;
                    w = fitted;
                } else {
                    int fitted = Math.max(1, (int) Math.round(w / aspect));
                    y0 += (h - fitted) / 2;
                    h = fitted;
                    y = yTicks(g, spec, st, h);
                }
            }
            PlotArea area = new PlotArea(x0, y0, w, h, spec.bounds(), spec.logY());
            Ticked x = xTicks(g, spec, st, area);
            if (keepAspect && !spec.logY() && x.values.length >= 2 && y.values.length >= 2) {
                // Equal data units on both axes deserve equal tick steps: square grid cells.
                double sx = x.values[1] - x.values[0];
                double sy = y.values[1] - y.values[0];
                // Only while the coarser step still leaves two labels on the other axis.
                if (sx > sy * (1 + 1e-9)) {
                    double[] v = Ticks.multiples(spec.bounds().yMin(), spec.bounds().yMax(), sx);
                    y = v.length >= 2 ? new Ticked(v, labels(v, false), new double[0]) : y;
                } else if (sy > sx * (1 + 1e-9)) {
                    double[] v = Ticks.multiples(spec.bounds().xMin(), spec.bounds().xMax(), sy);
                    x = v.length >= 2 ? new Ticked(v, labels(v, false), new double[0]) : x;
                }
            }
            result = new Layout(area, st, x.values, x.labels, y.values, y.labels, y.minor);
            if (x.values.length == 0) {
                break;
            }
            double lastRight = area.pixelX(x.values[x.values.length - 1]) + tickFm.stringWidth(x.labels[x.labels.length - 1]) / 2.0;
            int overflow = (int) Math.ceil(lastRight - (spec.chart().width() - pad / 2.0));
            if (overflow <= 0) {
                break;
            }
            right += overflow;
        }
        return result;
    }

    /** Fills the figure and plot backgrounds and draws the grid lines. */
    private static void drawBackground(Graphics2D g, Spec spec, Layout l) {
        PlotArea a = l.area();
        g.setColor(FIGURE_BACKGROUND);
        g.fillRect(0, 0, spec.chart().width(), spec.chart().height());
        g.setColor(PLOT_BACKGROUND);
        g.fillRect(a.x(), a.y(), a.width(), a.height());
        g.setStroke(new BasicStroke((float) Math.max(1, l.style().scale * 0.9)));
        g.setColor(MINOR_GRID);
        for (double t : l.yMinorTicks()) {
            double py = snap(a.pixelY(t));
            g.draw(new Line2D.Double(a.x(), py, a.x() + a.width(), py));
        }
        g.setColor(GRID);
        for (double t : l.yTicks()) {
            double py = snap(a.pixelY(t));
            g.draw(new Line2D.Double(a.x(), py, a.x() + a.width(), py));
        }
        for (double t : l.xTicks()) {
            double px = snap(a.pixelX(t));
            g.draw(new Line2D.Double(px, a.y(), px, a.y() + a.height()));
        }
    }

    /** Draws the frame, tick labels, axis labels, title and subtitle around the data. */
    private static void drawFrame(Graphics2D g, Spec spec, Layout l) {
        PlotArea a = l.area();
        Style st = l.style();
        g.setStroke(new BasicStroke(1f));
        g.setColor(FRAME);
        // Just outside the data rectangle, so the frame never covers a data pixel.
        g.draw(new Rectangle2D.Double(a.x() - 0.5, a.y() - 0.5, a.width() + 1, a.height() + 1));

        int tickGap = st.px(7);
        g.setFont(st.tick);
        g.setColor(MUTED);
        FontMetrics tickFm = g.getFontMetrics();
        for (int i = 0; i < l.xTicks().length; i++) {
            String s = l.xTickLabels()[i];
            float px = (float) (a.pixelX(l.xTicks()[i]) - tickFm.stringWidth(s) / 2.0);
            g.drawString(s, px, a.y() + a.height() + tickGap + tickFm.getAscent());
        }
        int maxYW = maxWidth(tickFm, l.yTickLabels());
        for (int i = 0; i < l.yTicks().length; i++) {
            String s = l.yTickLabels()[i];
            // Centre the digits (cap height ≈ ascent minus internal leading) on the grid line.
            float baseline = (float) (a.pixelY(l.yTicks()[i]) + (tickFm.getAscent() - tickFm.getDescent()) / 2.0 - 0.5);
            g.drawString(s, a.x() - tickGap - tickFm.stringWidth(s), baseline);
        }

        g.setFont(st.label);
        g.setColor(TEXT);
        FontMetrics labelFm = g.getFontMetrics();
        if (present(spec.chart().xLabel())) {
            String s = Viz.fit(labelFm, spec.chart().xLabel(), spec.chart().width() - 2 * st.px(8));
            float x = centred(labelFm.stringWidth(s), a.x() + a.width() / 2.0, spec.chart().width(), st.px(8));
            g.drawString(s, x, a.y() + a.height() + tickGap + tickFm.getAscent() + tickFm.getDescent() + st.px(4) + labelFm.getAscent());
        }
        if (present(spec.chart().yLabel())) {
            String s = Viz.fit(labelFm, spec.chart().yLabel(), spec.chart().height() - 2 * st.px(8));
            double baselineX = a.x() - tickGap - maxYW - st.px(8) - labelFm.getDescent();
            double centreY = a.y() + a.height() / 2.0;
            AffineTransform saved = g.getTransform();
            g.translate(baselineX, centreY);
            g.rotate(-Math.PI / 2);
            g.drawString(s, (float) (-labelFm.stringWidth(s) / 2.0), 0f);
            g.setTransform(saved);
        }

        int headerTop = a.y() - headerHeight(g, spec, st);
        if (present(spec.chart().title())) {
            g.setFont(st.title);
            g.setColor(TEXT);
            FontMetrics fm = g.getFontMetrics();
            String s = Viz.fit(fm, spec.chart().title(), spec.chart().width() - 2 * st.px(8));
            g.drawString(s, centred(fm.stringWidth(s), a.x() + a.width() / 2.0, spec.chart().width(), st.px(8)), headerTop + fm.getAscent());
            headerTop += fm.getAscent() + fm.getDescent() + st.px(3);
        }
        if (present(spec.chart().subtitle())) {
            g.setFont(st.subtitle);
            g.setColor(MUTED);
            FontMetrics fm = g.getFontMetrics();
            String s = Viz.fit(fm, spec.chart().subtitle(), spec.chart().width() - 2 * st.px(8));
            g.drawString(s, centred(fm.stringWidth(s), a.x() + a.width() / 2.0, spec.chart().width(), st.px(8)), headerTop + fm.getAscent());
        }
    }

    /** A legend box in the top-right corner of the plot area; nothing when there are no items. */
    private static void drawLegend(Graphics2D g, Layout l, List<LegendItem> items) {
        if (items.isEmpty()) {
            return;
        }
        PlotArea a = l.area();
        Style st = l.style();
        g.setFont(st.legend);
        FontMetrics fm = g.getFontMetrics();
        int inset = st.px(9);
        int swatch = st.px(20);
        int rowH = fm.getAscent() + fm.getDescent() + st.px(5);
        int maxText = Math.max(10, a.width() / 2 - swatch - 3 * inset);
        int textW = 0;
        String[] texts = new String[items.size()];
        for (int i = 0; i < texts.length; i++) {
            texts[i] = Viz.fit(fm, items.get(i).label(), maxText);
            textW = Math.max(textW, fm.stringWidth(texts[i]));
        }
        double boxW = inset + swatch + st.px(7) + textW + inset;
        double boxH = 2 * st.px(6) + rowH * items.size();
        double bx = a.x() + a.width() - st.px(10) - boxW;
        double by = a.y() + st.px(10);
        RoundRectangle2D box = new RoundRectangle2D.Double(bx, by, boxW, boxH, st.px(6), st.px(6));
        g.setColor(new Color(255, 255, 255, 225));
        g.fill(box);
        g.setColor(FRAME);
        g.setStroke(new BasicStroke(1f));
        g.draw(box);
        for (int i = 0; i < texts.length; i++) {
            LegendItem item = items.get(i);
            double rowTop = by + st.px(6) + i * rowH;
            double cy = rowTop + rowH / 2.0;
            double sx = bx + inset;
            g.setColor(item.color());
            if (item.line()) {
                g.setStroke(new BasicStroke((float) (2.5 * st.scale), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
                g.draw(new Line2D.Double(sx, cy, sx + swatch, cy));
            } else {
                double r = 4.5 * st.scale;
                g.fill(new Ellipse2D.Double(sx + swatch / 2.0 - r, cy - r, 2 * r, 2 * r));
            }
            g.setColor(TEXT);
            g.drawString(texts[i], (float) (sx + swatch + st.px(7)), (float) (cy + (fm.getAscent() - fm.getDescent()) / 2.0));
        }
    }

    private static void checkRoom(Spec spec, int pixels) {
        if (pixels < 8) {
            throw new DiffusionException("a " + spec.chart().width() + "x" + spec.chart().height() + " image leaves no room for the plot "
                    + "next to its title and labels: make the image larger");
        }
    }

    private static boolean present(String s) {
        return s != null;
    }

    /** Height of the title and subtitle lines plus the gap below them; 0 without either. */
    private static int headerHeight(Graphics2D g, Spec spec, Style st) {
        int h = 0;
        if (present(spec.chart().title())) {
            FontMetrics fm = g.getFontMetrics(st.title);
            h += fm.getAscent() + fm.getDescent();
        }
        if (present(spec.chart().subtitle())) {
            FontMetrics fm = g.getFontMetrics(st.subtitle);
            h += (h > 0 ? st.px(3) : 0) + fm.getAscent() + fm.getDescent();
        }
        return h > 0 ? h + st.px(12) : 0;
    }

    /** Ticks with their labels (and minor ticks, for a log axis). */
    private record Ticked(double[] values, String[] labels, double[] minor) {
    }

    /** The densest y ticks whose labels stay at least a line and a bit apart. */
    private static Ticked yTicks(Graphics2D g, Spec spec, Style st, int plotHeight) {
        FontMetrics fm = g.getFontMetrics(st.tick);
        double minGap = fm.getAscent() + fm.getDescent() + st.px(8);
        Bounds b = spec.bounds();
        PlotArea probe = new PlotArea(0, 0, 1, plotHeight, b, spec.logY());
        int maxCount = Math.max(2, (int) (plotHeight / (st.scale * 44)) + 1);
        Ticked chosen = null;
        Ticked bestFitting = null;
        for (int count : candidateCounts(maxCount, (int) (plotHeight / minGap) + 1)) {
            if (chosen != null) {
                break;
            }
            double[] v = spec.logY() ? Ticks.log10(b.yMin(), b.yMax(), count) : Ticks.linear(b.yMin(), b.yMax(), count);
            Ticked t = new Ticked(v, labels(v, spec.logY()), new double[0]);
            if (spacedAtLeast(probe, v, minGap)) {
                chosen = v.length >= 2 ? t : null;
                bestFitting = bestFitting == null || v.length > bestFitting.values.length ? t : bestFitting;
            }
        }
        Ticked last = chosen != null ? chosen : bestFitting != null ? bestFitting : new Ticked(new double[0], new String[0], new double[0]);
        if (spec.logY() && everyDecadeOrFiner(last.values)) {
            last = new Ticked(last.values, last.labels, withoutMajors(Ticks.log10Minor(b.yMin(), b.yMax(), 8), last.values));
        }
        return last;
    }

    /** The densest x ticks whose labels, measured, do not touch their neighbours. */
    private static Ticked xTicks(Graphics2D g, Spec spec, Style st, PlotArea area) {
        FontMetrics fm = g.getFontMetrics(st.tick);
        Bounds b = spec.bounds();
        int maxCount = Math.max(2, (int) (area.width() / (st.scale * 50)) + 1);
        Ticked bestFitting = null;
        for (int count : candidateCounts(maxCount, (int) (area.width() / (st.scale * 20)) + 1)) {
            double[] v = Ticks.linear(b.xMin(), b.xMax(), count);
            String[] labels = labels(v, false);
            boolean fits = true;
            for (int i = 0; i + 1 < v.length && fits; i++) {
                double need = (fm.stringWidth(labels[i]) + fm.stringWidth(labels[i + 1])) / 2.0 + st.px(12);
                fits = area.pixelX(v[i + 1]) - area.pixelX(v[i]) >= need;
            }
            if (fits) {
                Ticked t = new Ticked(v, labels, new double[0]);
                if (v.length >= 2) {
                    return t;
                }
                bestFitting = bestFitting == null || v.length > bestFitting.values.length ? t : bestFitting;
            }
        }
        // Only when not even two labels fit (a very narrow plot or a range too short for two nice
        // steps): one label or none, never overlapping ones.
        return bestFitting != null ? bestFitting : new Ticked(new double[0], new String[0], new double[0]);
    }

    /**
     * Tick counts to try, best first: from the count that gives comfortable spacing down to 2, then
     * denser ones up to {@code hardMax}, for ranges where the 1-2-5 steps leave fewer than two ticks.
     */
    private static int[] candidateCounts(int preferred, int hardMax) {
        int up = Math.max(0, hardMax - preferred);
        int[] out = new int[preferred - 1 + up];
        int k = 0;
        for (int c = preferred; c >= 2; c--) {
            out[k++] = c;
        }
        for (int c = preferred + 1; c <= hardMax; c++) {
            out[k++] = c;
        }
        return out;
    }

    private static boolean spacedAtLeast(PlotArea probe, double[] v, double minGap) {
        for (int i = 0; i + 1 < v.length; i++) {
            if (Math.abs(probe.pixelY(v[i + 1]) - probe.pixelY(v[i])) < minGap) {
                return false;
            }
        }
        return true;
    }

    /**
     * Labels for a tick set. Log axes label 1/2/5 × 10^k ticks each at its own decade's precision
     * ("0.02", "1", "500"); a log axis that fell back to linear ticks, and any linear axis, labels
     * all ticks with the precision of their common step.
     */
    private static String[] labels(double[] ticks, boolean log) {
        String[] out = new String[ticks.length];
        boolean perDecade = log && allOneTwoFive(ticks);
        double step = ticks.length >= 2 ? ticks[1] - ticks[0] : ticks.length == 1 ? lastDigit(ticks[0]) : 1;
        for (int i = 0; i < ticks.length; i++) {
            String s = perDecade ? Ticks.logLabel(ticks[i]) : Ticks.label(ticks[i], step);
            // A true minus sign (U+2212) is as wide as a digit; the hyphen looks like a dash.
            out[i] = s.replace('-', '\u2212');
        }
        return out;
    }

    /**
     * The place value of the last significant decimal digit of {@code v} (0.0001 for −0.0635): a
     * lone tick has no neighbour to round towards, so its label shows it exactly.
     */
    private static double lastDigit(double v) {
        return v == 0 ? 1 : Ticks.pow10(-new BigDecimal(Double.toString(v)).stripTrailingZeros().scale());
    }

    private static boolean allOneTwoFive(double[] ticks) {
        for (double t : ticks) {
            if (!(t > 0)) {
                return false;
            }
            double m = t / Ticks.pow10((int) Math.floor(Math.log10(t) + 1e-9));
            long r = Math.round(m);
            if (Math.abs(m - r) > 1e-6 || (r != 1 && r != 2 && r != 5)) {
                return false;
            }
        }
        return true;
    }

    /** Whether consecutive log ticks are at most one decade apart, so minor lines add information. */
    private static boolean everyDecadeOrFiner(double[] ticks) {
        if (ticks.length < 2 || !allOneTwoFive(ticks)) {
            return false;
        }
        for (int i = 0; i + 1 < ticks.length; i++) {
            if (ticks[i + 1] / ticks[i] > 10.000001) {
                return false;
            }
        }
        return true;
    }

    private static double[] withoutMajors(double[] minor, double[] major) {
        return java.util.Arrays.stream(minor)
                .filter(m -> java.util.Arrays.stream(major).noneMatch(t -> Math.abs(t - m) <= 1e-9 * t))
                .toArray();
    }

    private static int maxWidth(FontMetrics fm, String[] labels) {
        int w = 0;
        for (String s : labels) {
            w = Math.max(w, fm.stringWidth(s));
        }
        return w;
    }

    /** The x of text of width {@code w} centred on {@code centre}, kept inside the image. */
    private static float centred(int w, double centre, int imageWidth, int margin) {
        double x = centre - w / 2.0;
        x = Math.min(x, imageWidth - margin - w);
        return (float) Math.max(margin, x);
    }

    /** The centre of the pixel row or column containing coordinate v: 1-pixel lines stay crisp. */
    private static double snap(double v) {
        return Math.floor(v) + 0.5;
    }
}
