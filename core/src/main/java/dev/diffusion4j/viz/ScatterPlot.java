package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A 2-D point-cloud plot: an optional grey reference layer (e.g. the training data), an optional
 * field of arrows, then the samples as small translucent dots so that density shows. One data unit
 * has the same length on both axes, so distributions are never stretched (unless the bounds are so
 * far from the image's shape that the plot would shrink below a quarter of its room). A configured plot is a
 * template: {@link #render} it for one point set or {@link #frames} for an animation on shared axes.
 *
 * <pre>{@code
 * ScatterPlot plot = ScatterPlot.builder().title("DDPM, 1000 steps").background(data, "data").label("samples").build();
 * BufferedImage img = plot.render(samples, "t = 0 / 1000");
 * }</pre>
 */
public final class ScatterPlot {
    private static final Color ARROW = new Color(0x2E3440);

    private final ChartSpec chart;
    private final float[] background;
    private final String backgroundLabel;
    private final Color backgroundColor;
    private final String label;
    private final Color color;
    private final double pointRadius;
    private final double pointAlpha;

    private ScatterPlot(Builder b) {
        chart = b.spec();
        background = b.background;
        backgroundLabel = b.backgroundLabel;
        backgroundColor = b.backgroundColor;
        label = b.label;
        color = b.color;
        pointRadius = b.pointRadius;
        pointAlpha = b.pointAlpha;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Renders interleaved points x0, y0, x1, y1, ... with the configured subtitle. */
    public BufferedImage render(float[] xy) {
        return figure(xy, null, null).image();
    }

    /** Renders interleaved points under {@code subtitle} (e.g. "t = 250 / 1000   ᾱ = 0.52"); null keeps the configured one. */
    public BufferedImage render(float[] xy, String subtitle) {
        return figure(xy, subtitle, null).image();
    }

    /** Renders a [n, 2] tensor of points. */
    public BufferedImage render(Tensor points) {
        return render(Viz.xy(points));
    }

    /** Renders a [n, 2] tensor of points under {@code subtitle}. */
    public BufferedImage render(Tensor points, String subtitle) {
        return render(Viz.xy(points), subtitle);
    }

    /**
     * Renders points (null for none) and a vector field (null for none) under {@code subtitle} (null
     * for the configured one), returning the image with its data-to-pixel mapping. Points and
     * arrows outside the bounds or with NaN/infinite coordinates are skipped, never moved onto the border.
     */
    public Figure figure(float[] xy, String subtitle, VectorField field) {
        float[] points = xy == null ? new float[0] : xy;
        Bounds.checkInterleaved(points);
        Bounds b = chart.bounds(() -> autoBounds(List.of(points), field));
        return draw(points, subtitle != null ? chart.withSubtitle(subtitle) : chart, field, b);
    }

    /**
     * One image per point set, all on the same axes (the configured ranges, else bounds covering
     * every set and the background), for an animated GIF of a sampling trajectory.
     * {@code subtitles} is null or holds one entry per frame; a null entry shows the configured
     * subtitle, or a blank line when there is none, so the plot does not jump between frames.
     */
    public List<BufferedImage> frames(List<float[]> pointSets, List<String> subtitles) {
        if (subtitles != null && subtitles.size() != pointSets.size()) {
            throw new DiffusionException("got " + pointSets.size() + " frames but " + subtitles.size()
                    + " subtitles: pass one subtitle per frame or none");
        }
        for (float[] xy : pointSets) {
            Bounds.checkInterleaved(xy);
        }
        Bounds b = chart.bounds(() -> autoBounds(pointSets, null));
        boolean anySubtitle = chart.subtitle() != null || (subtitles != null && subtitles.stream().anyMatch(s -> s != null));
        List<BufferedImage> out = new ArrayList<>(pointSets.size());
        for (int i = 0; i < pointSets.size(); i++) {
            String s = subtitles != null && subtitles.get(i) != null ? subtitles.get(i) : chart.subtitle();
            out.add(draw(pointSets.get(i), chart.withSubtitle(s == null && anySubtitle ? "" : s), null, b).image());
        }
        return out;
    }

    private Bounds autoBounds(List<float[]> pointSets, VectorField field) {
        Bounds b = background == null ? null : Bounds.ofFinite(background);
        for (float[] xy : pointSets) {
            b = union(b, Bounds.ofFinite(xy));
        }
        if (field != null) {
            b = union(b, Bounds.ofFinite(field.positions()));
        }
        return (b == null ? new Bounds(-1, 1, -1, 1) : b).square();
    }

    private static Bounds union(Bounds a, Bounds b) {
        return a == null ? b : b == null ? a : a.union(b);
    }

    private Figure draw(float[] xy, ChartSpec spec, VectorField field, Bounds b) {
        List<LegendItem> legend = new ArrayList<>();
        if (background != null) {
            legend.add(new LegendItem(backgroundLabel, backgroundColor, false));
        }
        legend.add(new LegendItem(label, color, false));
        return Axes.draw(new Axes.Spec(spec, b, false, true), (g, area, scale) -> {
            int fgCount = countInside(xy, b);
            double radius = Double.isNaN(pointRadius) ? autoRadius(fgCount) * scale : pointRadius;
            if (background != null) {
                int n = countInside(background, b);
                double alpha = clamp(Math.sqrt(500.0 / Math.max(1, n)), 0.18, 0.55);
                dots(g, area, background, Palette.withAlpha(backgroundColor, alpha * backgroundColor.getAlpha() / 255.0),
                        Double.isNaN(pointRadius) ? autoRadius(n) * scale : pointRadius);
            }
            if (field != null) {
                arrows(g, area, field, scale);
            }
            double alpha = Double.isNaN(pointAlpha) ? clamp(Math.sqrt(900.0 / Math.max(1, fgCount)), 0.3, 0.85) : pointAlpha;
            dots(g, area, xy, Palette.withAlpha(color, alpha * color.getAlpha() / 255.0), radius);
        }, legend);
    }

    /** Larger dots for sparse clouds, smaller for dense ones, where overlap would hide structure. */
    private static double autoRadius(int n) {
        return n <= 500 ? 2.7 : n <= 3000 ? 2.2 : 1.8;
    }

    private static int countInside(float[] xy, Bounds b) {
        int n = 0;
        for (int i = 0; i + 1 < xy.length; i += 2) {
            if (b.contains(xy[i], xy[i + 1])) {
                n++;
            }
        }
        return n;
    }

    private static void dots(Graphics2D g, PlotArea area, float[] xy, Color c, double r) {
        g.setColor(c);
        Ellipse2D.Double dot = new Ellipse2D.Double();
        for (int i = 0; i + 1 < xy.length; i += 2) {
            // contains() is false for NaN, and points beyond the bounds are dropped rather than
            // clamped: a pile of dots on the border would look like data that is not there.
            if (!area.contains(xy[i], xy[i + 1])) {
                continue;
            }
            dot.setFrame(area.pixelX(xy[i]) - r, area.pixelY(xy[i + 1]) - r, 2 * r, 2 * r);
            g.fill(dot);
        }
    }

    /**
     * Arrows centred on their positions. Lengths are proportional to the vectors, with the 95th
     * percentile length drawn as 85% of the grid spacing and longer ones capped there: scores blow
     * up near the data at small noise, and uncapped they would cross the whole plot.
     */
    private static void arrows(Graphics2D g, PlotArea area, VectorField field, double scale) {
        int n = field.size();
        double[] lengths = new double[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            double len = Math.hypot(field.vector(2 * i), field.vector(2 * i + 1));
            if (Double.isFinite(len) && len > 0) {
                lengths[m++] = len;
            }
        }
        double spacing = field.spacing() > 0 ? field.spacing() : area.bounds().width() / 20;
        double maxLen = 0.85 * spacing;
        double reference = 1;
        if (m > 0) {
            Arrays.sort(lengths, 0, m);
            reference = lengths[Math.min(m - 1, (int) Math.floor(0.95 * (m - 1)))];
        }
        double unitsPerVector = maxLen / reference;
        g.setColor(Palette.withAlpha(ARROW, 0.72));
        g.setStroke(new BasicStroke((float) (1.1 * scale), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        for (int i = 0; i < n; i++) {
            double px = field.position(2 * i);
            double py = field.position(2 * i + 1);
            double vx = field.vector(2 * i);
            double vy = field.vector(2 * i + 1);
            if (!area.contains(px, py) || !Double.isFinite(vx) || !Double.isFinite(vy)) {
                continue;
            }
            double len = Math.hypot(vx, vy) * unitsPerVector;
            double k = len > maxLen ? maxLen / len : 1;
            double dx = vx * unitsPerVector * k / 2;
            double dy = vy * unitsPerVector * k / 2;
            double x0 = area.pixelX(px - dx);
            double y0 = area.pixelY(py - dy);
            double x1 = area.pixelX(px + dx);
            double y1 = area.pixelY(py + dy);
            double pixLen = Math.hypot(x1 - x0, y1 - y0);
            if (pixLen < 1.5) {
                // A vanishing vector still marks its grid point, so zeros read as "no flow here".
                double r = 0.9 * scale;
                g.fill(new Ellipse2D.Double(area.pixelX(px) - r, area.pixelY(py) - r, 2 * r, 2 * r));
                continue;
            }
            double head = Math.min(0.38 * pixLen, 6.5 * scale);
            double ux = (x1 - x0) / pixLen;
            double uy = (y1 - y0) / pixLen;
            double bx = x1 - ux * head;
            double by = y1 - uy * head;
            g.draw(new Line2D.Double(x0, y0, bx, by));
            Path2D.Double tip = new Path2D.Double();
            tip.moveTo(x1, y1);
            tip.lineTo(bx - uy * head * 0.45, by + ux * head * 0.45);
            tip.lineTo(bx + uy * head * 0.45, by - ux * head * 0.45);
            tip.closePath();
            g.fill(tip);
        }
    }

    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /**
     * Options of a {@link ScatterPlot}; every one has a sensible default. The shared options are
     * those of {@link ChartBuilder}, default size 640 × 640; without fixed ranges each render takes
     * robust bounds of its data (and the background), squared.
     */
    public static final class Builder extends ChartBuilder<Builder> {
        private float[] background;
        private String backgroundLabel;
        private Color backgroundColor = Palette.REFERENCE;
        private String label;
        private Color color = Palette.BLUE;
        private double pointRadius = Double.NaN;
        private double pointAlpha = Double.NaN;

        private Builder() {
            super("scatter plot", 640, 640, 120);
        }

        /** Reference points drawn first in light grey, e.g. the true data, as interleaved x, y. */
        public Builder background(float[] xy) {
            Bounds.checkInterleaved(xy);
            this.background = xy.clone();
            return this;
        }

        /** Reference points with a legend label. */
        public Builder background(float[] xy, String label) {
            background(xy);
            this.backgroundLabel = label;
            return this;
        }

        public Builder backgroundColor(Color color) {
            this.backgroundColor = color;
            return this;
        }

        /** The legend label of the rendered points; without one (and no background label) no legend is drawn. */
        public Builder label(String label) {
            this.label = label;
            return this;
        }

        /** The colour of the rendered points; default {@link Palette#BLUE}. */
        public Builder color(Color color) {
            this.color = color;
            return this;
        }

        /** Dot radius in pixels for both layers; default chosen from the point count and image size. */
        public Builder pointRadius(double pixels) {
            if (!(pixels > 0) || pixels > 100) {
                throw new DiffusionException("point radius must be in (0, 100] pixels but was " + pixels);
            }
            this.pointRadius = pixels;
            return this;
        }

        /** Opacity of the rendered points in (0, 1]; default lower for more points, so density shows. */
        public Builder pointAlpha(double alpha) {
            if (!(alpha > 0) || alpha > 1) {
                throw new DiffusionException("point alpha must be in (0, 1] but was " + alpha);
            }
            this.pointAlpha = alpha;
            return this;
        }

        public ScatterPlot build() {
            return new ScatterPlot(this);
        }
    }
}
