package dev.diffusion4j.viz;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Plain image tiling and the conversions around it: a batch of generated images (a tensor in
 * [−1, 1]) to pictures, nearest-neighbour enlargement of small samples, and an uncaptioned grid.
 */
public final class ImageTiles {
    private ImageTiles() {
    }

    /** {@code images} in rows of {@code cols}, {@code padding} white pixels apart and around. */
    public static BufferedImage grid(List<BufferedImage> images, int cols, int padding) {
        return grid(images, cols, padding, Color.WHITE);
    }

    /** {@code images} in rows of {@code cols} on a {@code background}-coloured canvas. */
    public static BufferedImage grid(List<BufferedImage> images, int cols, int padding, Color background) {
        return ImageGrid.builder().addAll(images).columns(cols).padding(padding).background(background).render();
    }

    /** {@code image} enlarged {@code factor} times with hard pixel edges (a 28×28 digit stays crisp). */
    public static BufferedImage scale(BufferedImage image, int factor) {
        if (factor < 1 || (long) image.getWidth() * image.getHeight() * factor * factor > 400_000_000L) {
            throw new DiffusionException("cannot scale a " + image.getWidth() + "x" + image.getHeight() + " image by "
                    + factor + ": use a factor of at least 1 that keeps it under 400 megapixels");
        }
        int w = image.getWidth();
        int h = image.getHeight();
        BufferedImage out = new BufferedImage(w * factor, h * factor,
                image.getColorModel().hasAlpha() ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
        int[] row = new int[w * factor];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                Arrays.fill(row, x * factor, (x + 1) * factor, image.getRGB(x, y));
            }
            for (int k = 0; k < factor; k++) {
                out.setRGB(0, y * factor + k, w * factor, 1, row, 0, w * factor);
            }
        }
        return out;
    }

    /** Images from a tensor [n, c, h, w] (c = 1 grey or 3 RGB) or [n, h, w] with values in [−1, 1]. */
    public static List<BufferedImage> fromTensor(Tensor images) {
        return fromTensor(images, -1, 1);
    }

    /**
     * Images from a tensor [n, c, h, w] (c = 1 grey or 3 RGB) or [n, h, w], mapping {@code lo} to
     * black and {@code hi} to full intensity; values outside are clipped and NaN shows as black.
     */
    public static List<BufferedImage> fromTensor(Tensor images, double lo, double hi) {
        if (!(lo < hi) || !Double.isFinite(lo) || !Double.isFinite(hi)) {
            throw new DiffusionException("image value range [" + lo + ", " + hi + "] must be finite with lo < hi");
        }
        long[] shape = images.shape();
        boolean chw = shape.length == 4 && (shape[1] == 1 || shape[1] == 3);
        if (!chw && shape.length != 3) {
            throw new DiffusionException("images must be a tensor [n, c, h, w] with c = 1 or 3, or [n, h, w], but got "
                    + Arrays.toString(shape));
        }
        int n = (int) shape[0];
        int c = chw ? (int) shape[1] : 1;
        int h = (int) shape[shape.length - 2];
        int w = (int) shape[shape.length - 1];
        if ((long) n * c * h * w > Integer.MAX_VALUE - 8 || h < 1 || w < 1) {
            throw new DiffusionException("cannot make images from a tensor of shape " + Arrays.toString(shape)
                    + ": it must be non-empty and hold under 2^31 values");
        }
        float[] v = images.toFloatArray();
        List<BufferedImage> out = new ArrayList<>(n);
        int plane = h * w;
        for (int i = 0; i < n; i++) {
            // RGB even for grey data: Java's TYPE_BYTE_GRAY is linear-light, so drawing it into an
            // sRGB canvas (a grid, a PNG viewer's conversion) would brighten mid-greys.
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            int base = i * c * plane;
            for (int p = 0; p < plane; p++) {
                int r = level(v[base + p], lo, hi);
                int gr = c == 3 ? level(v[base + plane + p], lo, hi) : r;
                int b = c == 3 ? level(v[base + 2 * plane + p], lo, hi) : r;
                img.setRGB(p % w, p / w, r << 16 | gr << 8 | b);
            }
            out.add(img);
        }
        return out;
    }

    private static int level(float value, double lo, double hi) {
        if (Float.isNaN(value)) {
            return 0;
        }
        double t = (value - lo) / (hi - lo);
        return (int) Math.round(Math.max(0, Math.min(1, t)) * 255);
    }
}
