package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;

/**
 * An axis-aligned data rectangle [xMin, xMax] × [yMin, yMax] that a plot maps onto its pixels.
 * Fixing one {@code Bounds} for every frame of an animation keeps the axes still while points move.
 */
public record Bounds(double xMin, double xMax, double yMin, double yMax) {
    /** Lower and upper quantiles kept by {@link #of}: a few outliers must not squash the picture. */
    static final double LOW_QUANTILE = 0.005;
    static final double HIGH_QUANTILE = 0.995;
    /** Margin added on each side by {@link #of}, as a fraction of the quantile span. */
    static final double MARGIN = 0.10;

    public Bounds {
        if (!(Double.isFinite(xMin) && Double.isFinite(xMax) && Double.isFinite(yMin) && Double.isFinite(yMax))
                || !(xMin < xMax) || !(yMin < yMax)) {
            throw new DiffusionException("invalid plot bounds x [" + xMin + ", " + xMax + "], y [" + yMin + ", " + yMax
                    + "]: each axis needs finite limits with min < max");
        }
    }

    /**
     * Robust bounds of interleaved points x0, y0, x1, y1, ...: per axis the 0.5% to 99.5% quantile
     * range plus a 10% margin on each side. Points with a NaN or infinite coordinate are ignored; an
     * axis whose data have no spread is padded around its value, and with no finite point at all the
     * result is the square [−1, 1]².
     */
    public static Bounds of(float... xy) {
        Bounds b = ofFinite(xy);
        return b != null ? b : new Bounds(-1, 1, -1, 1);
    }

    /** {@link #of(float...)} for a tensor of points of shape [n, 2]. */
    public static Bounds of(Tensor points) {
        return of(Viz.xy(points));
    }

    /** Like {@link #of(float...)}, but null when there is no finite point to take bounds from. */
    static Bounds ofFinite(float[] xy) {
        checkInterleaved(xy);
        int n = 0;
        double[] xs = new double[xy.length / 2];
        double[] ys = new double[xy.length / 2];
        for (int i = 0; i + 1 < xy.length; i += 2) {
            float x = xy[i];
            float y = xy[i + 1];
            // A point is usable only if both coordinates are: a half-NaN point is never drawn either.
            if (Float.isFinite(x) && Float.isFinite(y)) {
                xs[n] = x;
                ys[n] = y;
                n++;
            }
        }
        if (n == 0) {
            return null;
        }
        double[] x = robustRange(Arrays.copyOf(xs, n));
        double[] y = robustRange(Arrays.copyOf(ys, n));
        return new Bounds(x[0], x[1], y[0], y[1]);
    }

    /** The smallest bounds containing this and {@code other}. */
    public Bounds union(Bounds other) {
        return new Bounds(Math.min(xMin, other.xMin), Math.max(xMax, other.xMax),
                Math.min(yMin, other.yMin), Math.max(yMax, other.yMax));
    }

    /** These bounds grown by {@code fraction} of each axis's span on both sides of that axis. */
    public Bounds expand(double fraction) {
        if (!Double.isFinite(fraction) || fraction <= -0.5) {
            throw new DiffusionException("cannot expand plot bounds by " + fraction + ": use a finite fraction above -0.5");
        }
        double dx = width() * fraction;
        double dy = height() * fraction;
        return new Bounds(xMin - dx, xMax + dx, yMin - dy, yMax + dy);
    }

    /**
     * These bounds with the shorter axis widened symmetrically to the longer one's span, so that a
     * plot drawn with equal pixel scales shows 2-D distributions without stretching them.
     */
    public Bounds square() {
        double span = Math.max(width(), height());
        double cx = (xMin + xMax) / 2;
        double cy = (yMin + yMax) / 2;
        return new Bounds(cx - span / 2, cx + span / 2, cy - span / 2, cy + span / 2);
    }

    public double width() {
        return xMax - xMin;
    }

    public double height() {
        return yMax - yMin;
    }

    /** Whether (x, y) lies inside these bounds, borders included; false for NaN coordinates. */
    public boolean contains(double x, double y) {
        return x >= xMin && x <= xMax && y >= yMin && y <= yMax;
    }

    static void checkInterleaved(float[] xy) {
        if (xy.length % 2 != 0) {
            throw new DiffusionException("2-D points must be interleaved as x0, y0, x1, y1, ... but got an odd count of "
                    + xy.length + " values");
        }
    }

    /** {lo, hi} of the quantile range plus margins; a range without spread is padded around its value. */
    private static double[] robustRange(double[] v) {
        Arrays.sort(v);
        double lo = quantile(v, LOW_QUANTILE);
        double hi = quantile(v, HIGH_QUANTILE);
        double span = hi - lo;
        if (!(span > 0)) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            return new double[] {lo - pad, hi + pad};
        }
        return new double[] {lo - MARGIN * span, hi + MARGIN * span};
    }

    /** Linear interpolation between order statistics (the "type 7" definition of R and NumPy). */
    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int i = (int) Math.floor(pos);
        int j = Math.min(i + 1, sorted.length - 1);
        return sorted[i] + (pos - i) * (sorted[j] - sorted[i]);
    }
}
