package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Arrays;

/** Helpers shared by the plots: tensor conversion, graphics set-up, text fitting. */
final class Viz {
    private Viz() {
    }

    /** Interleaved x, y values of a [n, 2] tensor of points. */
    static float[] xy(Tensor points) {
        long[] shape = points.shape();
        if (shape.length != 2 || shape[1] != 2) {
            throw new DiffusionException("2-D points must be a tensor of shape [n, 2] but got " + Arrays.toString(shape)
                    + "; reshape or select two columns first");
        }
        return points.toFloatArray();
    }

    /** A new opaque RGB image of the given size; plots are opaque so PNG and GIF output agree. */
    static BufferedImage image(int width, int height) {
        return new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    }

    /** Graphics with antialiased shapes and text and exact (unhinted) geometry. */
    static Graphics2D graphics(BufferedImage image) {
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.setRenderingHint(RenderingHints.KEY_COLOR_RENDERING, RenderingHints.VALUE_COLOR_RENDER_QUALITY);
        // Pure stroke control puts shapes exactly where the coordinates say, which pixel tests rely on.
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        return g;
    }

    /** {@code text}, shortened with an ellipsis if needed to fit in {@code maxWidth} pixels. */
    static String fit(FontMetrics fm, String text, int maxWidth) {
        if (fm.stringWidth(text) <= maxWidth) {
            return text;
        }
        String ellipsis = "…";
        int end = text.length();
        while (end > 0 && fm.stringWidth(text.substring(0, end) + ellipsis) > maxWidth) {
            end--;
        }
        return end == 0 ? "" : text.substring(0, end).stripTrailing() + ellipsis;
    }

    static void checkSize(String what, int width, int height, int min) {
        if (width < min || height < min || (long) width * height > 100_000_000L) {
            throw new DiffusionException(what + " size " + width + "x" + height + " is not usable: use at least " + min + "x"
                    + min + " and at most 100 megapixels");
        }
    }
}
