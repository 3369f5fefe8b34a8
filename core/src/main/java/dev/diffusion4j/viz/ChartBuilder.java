package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;

/**
 * The options every chart has — size, title and subtitle, axis labels, legend, fixed axis ranges —
 * written once for {@link LineChart.Builder} and {@link ScatterPlot.Builder}. {@code B} is the
 * concrete builder, so each option returns it and chart-specific options chain after shared ones.
 *
 * @param <B> the builder type that the options return
 */
public abstract class ChartBuilder<B extends ChartBuilder<B>> {
    private final String kind;
    private final int minSize;
    private int width;
    private int height;
    private String title;
    private String subtitle;
    private String xLabel;
    private String yLabel;
    private boolean legend = true;
    private ChartSpec.Range xRange;
    private ChartSpec.Range yRange;

    /** Package-private: the charts of this package are the only subclasses, so {@link #self} is safe. */
    ChartBuilder(String kind, int width, int height, int minSize) {
        this.kind = kind;
        this.minSize = minSize;
        this.width = width;
        this.height = height;
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** Image size in pixels; each chart documents its default and its minimum. */
    public B size(int width, int height) {
        Viz.checkSize(kind, width, height, minSize);
        this.width = width;
        this.height = height;
        return self();
    }

    public B title(String title) {
        this.title = title;
        return self();
    }

    /** A second, smaller header line under the title; a scatter plot's render can replace it per image. */
    public B subtitle(String subtitle) {
        this.subtitle = subtitle;
        return self();
    }

    public B axisLabels(String xLabel, String yLabel) {
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        return self();
    }

    /** Whether to draw the legend of the labelled layers (default true); unlabelled layers never get a row. */
    public B legend(boolean legend) {
        this.legend = legend;
        return self();
    }

    /** A fixed x range instead of the data's. */
    public B xRange(double min, double max) {
        this.xRange = range("x", min, max);
        return self();
    }

    /** A fixed y range instead of the data's; positive on a log axis. */
    public B yRange(double min, double max) {
        this.yRange = range("y", min, max);
        return self();
    }

    /**
     * Fixed data bounds on both axes, e.g. the same for every frame of an animation; null returns
     * both axes to the data's range.
     */
    public B bounds(Bounds bounds) {
        xRange = bounds == null ? null : new ChartSpec.Range(bounds.xMin(), bounds.xMax());
        yRange = bounds == null ? null : new ChartSpec.Range(bounds.yMin(), bounds.yMax());
        return self();
    }

    /** The shared settings as they are now, for the chart being built. */
    ChartSpec spec() {
        return new ChartSpec(width, height, title, subtitle, xLabel, yLabel, legend, xRange, yRange);
    }

    private static ChartSpec.Range range(String axis, double min, double max) {
        if (!Double.isFinite(min) || !Double.isFinite(max) || !(min < max)) {
            throw new DiffusionException(axis + " range [" + min + ", " + max + "] must be finite with min < max");
        }
        return new ChartSpec.Range(min, max);
    }
}
