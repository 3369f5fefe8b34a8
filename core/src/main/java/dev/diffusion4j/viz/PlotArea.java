package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;

/**
 * Where a plot's data rectangle sits in its image: the pixel rectangle [x, x + width) ×
 * [y, y + height) showing {@code bounds}, with y growing downwards and optionally a log-10 y axis.
 * Use it to place annotations on a rendered {@link Figure}.
 */
public record PlotArea(int x, int y, int width, int height, Bounds bounds, boolean logY) {
    public PlotArea {
        if (width <= 0 || height <= 0) {
            throw new DiffusionException("a plot area needs a positive size but got " + width + "x" + height
                    + ": make the image larger or drop some labels");
        }
        if (logY && !(bounds.yMin() > 0)) {
            throw new DiffusionException("a log y axis needs positive limits but got [" + bounds.yMin() + ", "
                    + bounds.yMax() + "]");
        }
    }

    /** The horizontal pixel coordinate of data x: xMin maps to the left edge {@code x}, xMax to {@code x + width}. */
    public double pixelX(double dataX) {
        return x + (dataX - bounds.xMin()) / bounds.width() * width;
    }

    /** The vertical pixel coordinate of data y: yMax maps to the top edge {@code y}, yMin to {@code y + height}. */
    public double pixelY(double dataY) {
        double t = logY
                ? (Math.log10(dataY) - Math.log10(bounds.yMin())) / (Math.log10(bounds.yMax()) - Math.log10(bounds.yMin()))
                : (dataY - bounds.yMin()) / bounds.height();
        return y + height - t * height;
    }

    /** Whether a data point lies inside the bounds (and, on a log axis, has y &gt; 0). */
    public boolean contains(double dataX, double dataY) {
        return bounds.contains(dataX, dataY);
    }
}
