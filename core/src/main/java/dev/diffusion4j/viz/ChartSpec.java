package dev.diffusion4j.viz;

import java.util.function.Supplier;

/**
 * The settings every chart shares, fixed when its {@link ChartBuilder} builds it: image size, the
 * header and axis texts, whether to draw a legend, and the axis ranges fixed by the caller (null
 * where the data decide).
 */
record ChartSpec(int width, int height, String title, String subtitle, String xLabel, String yLabel,
                 boolean legend, Range xRange, Range yRange) {

    /** A fixed axis range [min, max]; {@link ChartBuilder} checks that it is finite and non-empty. */
    record Range(double min, double max) {
    }

    /** The same chart under another subtitle: scatter plots replace it per rendered point set. */
    ChartSpec withSubtitle(String subtitle) {
        return new ChartSpec(width, height, title, subtitle, xLabel, yLabel, legend, xRange, yRange);
    }

    /**
     * The fixed ranges where the caller set them, the data's elsewhere; {@code data} is computed
     * only when an axis is left to the data, since that can mean sorting every point.
     */
    Bounds bounds(Supplier<Bounds> data) {
        if (xRange != null && yRange != null) {
            return new Bounds(xRange.min(), xRange.max(), yRange.min(), yRange.max());
        }
        Bounds d = data.get();
        return new Bounds(xRange != null ? xRange.min() : d.xMin(), xRange != null ? xRange.max() : d.xMax(),
                yRange != null ? yRange.min() : d.yMin(), yRange != null ? yRange.max() : d.yMax());
    }
}
