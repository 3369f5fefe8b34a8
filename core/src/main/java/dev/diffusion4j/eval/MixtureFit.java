package dev.diffusion4j.eval;

import dev.diffusion4j.data.GaussianMixture;
import dev.diffusion4j.tensor.Tensor;

/**
 * How well samples asked of one component of a Gaussian mixture fit it: the share whose nearest
 * mean is the component's, the share within 3 standard deviations of its mean (RMS per coordinate,
 * on the data's manifold), and their spread around the mean relative to the component's std (1 is
 * the data's; below 1 collapsed towards the mode, above 1 pushed past it).
 */
public record MixtureFit(double inComponent, double within3Std, double spreadRatio) {
    /** The fit of samples {@code x} [n, d] to component {@code k} of {@code gm}. */
    public static MixtureFit of(Tensor x, GaussianMixture gm, int k) {
        float[] p = x.toFloatArray();
        int d = gm.dim();
        double[][] means = gm.means();
        int n = p.length / d;
        int hits = 0;
        int within = 0;
        double sq = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            double bestSq = Double.POSITIVE_INFINITY;
            for (int j = 0; j < means.length; j++) {
                double dist = 0;
                for (int c = 0; c < d; c++) {
                    double diff = p[i * d + c] - means[j][c];
                    dist += diff * diff;
                }
                if (dist < bestSq) {
                    bestSq = dist;
                    best = j;
                }
            }
            if (best == k) {
                hits++;
                sq += bestSq;
                within += Math.sqrt(bestSq / d) <= 3 * gm.stds()[k] ? 1 : 0;
            }
        }
        double spread = hits == 0 ? Double.NaN : Math.sqrt(sq / hits / d) / gm.stds()[k];
        return new MixtureFit((double) hits / n, (double) within / n, spread);
    }
}
