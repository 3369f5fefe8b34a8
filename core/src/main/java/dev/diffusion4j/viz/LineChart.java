package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Named (x, y) series drawn as lines, e.g. training and validation losses against the step, on a
 * linear or log-10 y axis. With smoothing on, each series is drawn thin and light as measured and
 * thick as an exponential moving average on top, so the trend of a noisy loss is readable.
 * NaN and infinite values (and y ≤ 0 on a log axis) leave gaps.
 *
 * <pre>{@code
 * BufferedImage img = LineChart.builder().title("Training loss").logY(true).smoothing(0.9)
 *         .axisLabels("step", "loss").series("train", steps, losses).render();
 * }</pre>
 */
public final class LineChart {
    /** Opacity of the raw series under its smoothed version. */
    private static final double RAW_ALPHA = 0.28;

    private final ChartSpec chart;
    private final boolean logY;
    private final double smoothing;
    private final List<Series> series;

    private LineChart(Builder b) {
        chart = b.spec();
        logY = b.logY;
        smoothing = b.smoothing;
        series = List.copyOf(b.series);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** One named line; {@code color} null means the next palette colour. */
    private record Series(String name, double[] x, double[] y, Color color) {
    }

    /**
     * The exponential moving average s_i = w·s_{i−1} + (1 − w)·y_i of the finite values of {@code y},
     * divided by 1 − w^k after k values so the start is not pulled towards 0 (Adam's bias
     * correction; TensorBoard smooths the same way). Non-finite entries stay NaN and do not update
     * the average. {@code weight} is in [0, 1); 0 returns the values unchanged.
     */
    public static double[] ema(double[] y, double weight) {
        return ema(null, y, weight, 1);
    }

    /**
     * {@link #ema(double[], double)} with the weight applied per {@code step} of x: a point
     * Δx after the previous one decays the average by weight^(Δx / step). Series sampled 50 times
     * more sparsely (validation every 1000 steps, training every 20) are then averaged over the
     * same span of x, instead of lagging 50 times further behind. x null means unit spacing.
     */
    static double[] ema(double[] x, double[] y, double weight, double step) {
        if (!(weight >= 0) || !(weight < 1)) {
            throw new DiffusionException("smoothing weight must be in [0, 1) but was " + weight);
        }
        double[] out = new double[y.length];
        double s = 0;
        double decay = 1;
        double previousX = Double.NaN;
        for (int i = 0; i < y.length; i++) {
            if (!Double.isFinite(y[i]) || (x != null && !Double.isFinite(x[i]))) {
                out[i] = Double.NaN;
                continue;
            }
            double w = weight;
            if (x != null && x[i] > previousX) {
                w = Math.pow(weight, (x[i] - previousX) / step);
            }
            s = w * s + (1 - w) * y[i];
            decay *= w;
            out[i] = s / (1 - decay);
            previousX = x == null ? Double.NaN : x[i];
        }
        return out;
    }

    public BufferedImage render() {
        return figure().image();
    }

    /** Renders the chart and returns it with its data-to-pixel mapping. */
    public Figure figure() {
        List<double[]> plotted = new ArrayList<>();
        List<double[]> smoothed = new ArrayList<>();
        double step = finestSpacing();
        for (Series s : series) {
            double[] y = plottable(s.y);
            plotted.add(y);
            smoothed.add(smoothing > 0 ? smooth(s.x, y, step) : null);
        }
        Bounds bounds = chart.bounds(() -> dataBounds(plotted));
        boolean smooth = smoothing > 0;
        List<LegendItem> legend = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            legend.add(new LegendItem(series.get(i).name, colour(i), true));
        }
        return Axes.draw(new Axes.Spec(chart, bounds, logY, false), (g, area, scale) -> {
            // All raw lines first, then all thick ones: a light line must never cover a trend.
            for (int i = 0; i < series.size(); i++) {
                Color c = colour(i);
                line(g, area, series.get(i).x, plotted.get(i), smooth ? Palette.withAlpha(c, RAW_ALPHA) : c,
                        (smooth ? 1.2 : 2.0) * scale);
            }
            if (smooth) {
                for (int i = 0; i < series.size(); i++) {
                    line(g, area, series.get(i).x, smoothed.get(i), colour(i), 2.4 * scale);
                }
            }
        }, legend);
    }

    private Color colour(int i) {
        Color c = series.get(i).color;
        return c != null ? c : Palette.series(i);
    }

    /** The y values that can be drawn: non-finite ones, and on a log axis y ≤ 0, become NaN gaps. */
    private double[] plottable(double[] y) {
        double[] out = y.clone();
        for (int i = 0; i < out.length; i++) {
            if (!Double.isFinite(out[i]) || (logY && out[i] <= 0)) {
                out[i] = Double.NaN;
            }
        }
        return out;
    }

    /**
     * On a log axis the average runs over log10 y (a geometric mean), so one spike of 100× the loss
     * moves the trend as much as a dip to 1/100, as it looks on that axis.
     */
    private double[] smooth(double[] x, double[] y, double step) {
        if (!logY) {
            return ema(x, y, smoothing, step);
        }
        double[] logs = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            logs[i] = Math.log10(y[i]);
        }
        double[] s = ema(x, logs, smoothing, step);
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.pow(10, s[i]);
        }
        return s;
    }

    /** The smallest median x step over the series: the unit the smoothing weight applies to. */
    private double finestSpacing() {
        double best = Double.POSITIVE_INFINITY;
        for (Series s : series) {
            double[] d = new double[s.x.length];
            int n = 0;
            for (int i = 1; i < s.x.length; i++) {
                double dx = s.x[i] - s.x[i - 1];
                if (dx > 0 && Double.isFinite(dx)) {
                    d[n++] = dx;
                }
            }
            if (n > 0) {
                java.util.Arrays.sort(d, 0, n);
                best = Math.min(best, d[n / 2]);
            }
        }
        return Double.isFinite(best) ? best : 1;
    }

    /**
     * The data's ranges, used where no range is fixed: x exactly (steps start and end at the frame), y
     * with 5% headroom. A range with no spread (one point, a constant series) is padded around its
     * value; with no drawable data at all the axes show [0, 1] (or [1, 10] on a log axis).
     */
    private Bounds dataBounds(List<double[]> plotted) {
        double xMin = Double.POSITIVE_INFINITY;
        double xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < series.size(); i++) {
            double[] x = series.get(i).x;
            double[] y = plotted.get(i);
            for (int j = 0; j < y.length; j++) {
                if (Double.isFinite(x[j]) && !Double.isNaN(y[j])) {
                    xMin = Math.min(xMin, x[j]);
                    xMax = Math.max(xMax, x[j]);
                    yMin = Math.min(yMin, y[j]);
                    yMax = Math.max(yMax, y[j]);
                }
            }
        }
        double[] xr = linearRange(xMin, xMax, 0.0);
        double[] yr = logY ? logRange(yMin, yMax) : linearRange(yMin, yMax, 0.05);
        return new Bounds(xr[0], xr[1], yr[0], yr[1]);
    }

    private static double[] linearRange(double lo, double hi, double headroom) {
        if (lo > hi) {
            return new double[] {0, 1};
        }
        if (hi - lo == 0 || hi - lo < Math.ulp(Math.abs(lo)) * 64) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            return new double[] {lo - pad, hi + pad};
        }
        double m = (hi - lo) * headroom;
        return new double[] {lo - m, hi + m};
    }

    private static double[] logRange(double lo, double hi) {
        if (lo > hi) {
            return new double[] {1, 10};
        }
        double l = Math.log10(lo);
        double h = Math.log10(hi);
        // Half a decade around a constant, else 5% of the log span: the log analogue of linearRange.
        double m = h - l < 1e-9 ? 0.5 : (h - l) * 0.05;
        return new double[] {Math.pow(10, l - m), Math.pow(10, h + m)};
    }

    /** A polyline through consecutive drawable points; gaps break it, isolated points become dots. */
    private static void line(Graphics2D g, PlotArea area, double[] x, double[] y, Color c, double width) {
        g.setColor(c);
        g.setStroke(new BasicStroke((float) width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        Path2D.Double path = new Path2D.Double();
        int runStart = -1;
        for (int i = 0; i <= y.length; i++) {
            boolean ok = i < y.length && Double.isFinite(x[i]) && !Double.isNaN(y[i]);
            if (ok) {
                double px = clampPixel(area.pixelX(x[i]));
                double py = clampPixel(area.pixelY(y[i]));
                if (runStart < 0) {
                    runStart = i;
                    path.moveTo(px, py);
                } else {
                    path.lineTo(px, py);
                }
            } else if (runStart >= 0) {
                if (i - runStart == 1) {
                    double r = Math.max(2.5, width * 1.2);
                    double px = area.pixelX(x[runStart]);
                    double py = area.pixelY(y[runStart]);
                    g.fill(new Ellipse2D.Double(px - r, py - r, 2 * r, 2 * r));
                }
                runStart = -1;
            }
        }
        g.draw(path);
    }

    /** Keeps far-off points (outside a fixed range) at coordinates Java2D still rasterises exactly. */
    private static double clampPixel(double v) {
        return Math.max(-1e6, Math.min(1e6, v));
    }

    /** Options and series of a {@link LineChart}; the shared options are those of {@link ChartBuilder}, default size 800 × 480. */
    public static final class Builder extends ChartBuilder<Builder> {
        private boolean logY;
        private double smoothing;
        private final List<Series> series = new ArrayList<>();

        private Builder() {
            super("line chart", 800, 480, 160);
        }

        /** A log-10 y axis; values ≤ 0 are then left out. */
        public Builder logY(boolean logY) {
            this.logY = logY;
            return this;
        }

        /**
         * EMA weight in [0, 1) for a smoothed line over the raw one (0.9 suits noisy losses); 0 turns
         * it off. The weight applies per x step of the most finely sampled series, so sparser series
         * are averaged over the same x span.
         */
        public Builder smoothing(double weight) {
            if (!(weight >= 0) || !(weight < 1)) {
                throw new DiffusionException("smoothing weight must be in [0, 1) but was " + weight);
            }
            this.smoothing = weight;
            return this;
        }

        /** A series of points (x[i], y[i]). */
        public Builder series(String name, double[] x, double[] y) {
            return series(name, x, y, null);
        }

        /** A series of points (x[i], y[i]) in a given colour; x null means 0, 1, 2, .... */
        public Builder series(String name, double[] x, double[] y, Color color) {
            if (x == null) {
                x = indices(y.length);
            }
            if (x.length != y.length) {
                throw new DiffusionException("series '" + name + "' has " + x.length + " x values but " + y.length
                        + " y values: pass one x per y");
            }
            series.add(new Series(name, x.clone(), y.clone(), color));
            return this;
        }

        /** A series of values against their index 0, 1, 2, .... */
        public Builder series(String name, double[] y) {
            return series(name, null, y, null);
        }

        public LineChart build() {
            ChartSpec.Range y = spec().yRange();
            if (logY && y != null && !(y.min() > 0)) {
                throw new DiffusionException("a log y axis needs a positive y range but got [" + y.min() + ", " + y.max() + "]");
            }
            return new LineChart(this);
        }

        /** Shorthand for {@code build().render()}. */
        public BufferedImage render() {
            return build().render();
        }

        /** Shorthand for {@code build().figure()}. */
        public Figure figure() {
            return build().figure();
        }

        private static double[] indices(int n) {
            double[] x = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = i;
            }
            return x;
        }
    }
}
