package dev.diffusion4j.studio;

import dev.diffusion4j.tensor.Tensor;

/**
 * 2D point clouds for the wire: interleaved x, y, rounded to 4 decimals (a pixel is ~0.01 data units).
 * Non-finite values (a diverged sampler) pass through as they are, so they are not mistaken for points.
 */
final class Points {
    private Points() {
    }

    static float[] of(Tensor xy) {
        float[] f = xy.toFloatArray();
        for (int i = 0; i < f.length; i++) {
            if (Float.isFinite(f[i])) {
                f[i] = Math.round(f[i] * 1e4f) / 1e4f;
            }
        }
        return f;
    }

    /** [xmin, xmax, ymin, ymax] of interleaved points. */
    static double[] bounds(float[] xy) {
        double[] b = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (int i = 0; i + 1 < xy.length; i += 2) {
            if (!Float.isFinite(xy[i]) || !Float.isFinite(xy[i + 1])) {
                continue;
            }
            b[0] = Math.min(b[0], xy[i]);
            b[1] = Math.max(b[1], xy[i]);
            b[2] = Math.min(b[2], xy[i + 1]);
            b[3] = Math.max(b[3], xy[i + 1]);
        }
        return b;
    }
}
