package dev.diffusion4j.data;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;
import java.util.Arrays;

/**
 * A mixture of isotropic Gaussians, p(x) = Σₖ wₖ·N(x; μₖ, σₖ²I). Toy sets that are exact mixtures
 * expose it so that the exact denoiser E[x₀|x_t] can be written in closed form.
 *
 * <p>The arrays are copied on the way in and on the way out, so an instance is immutable; as for
 * any record with array components, {@code equals} compares array identity, not contents.
 *
 * @param means   component means, [K][d]
 * @param stds    per-component standard deviation σₖ &gt; 0 (the same in every dimension)
 * @param weights mixture weights wₖ ≥ 0 summing to 1
 */
public record GaussianMixture(double[][] means, double[] stds, double[] weights) {

    public GaussianMixture {
        if (means == null || stds == null || weights == null || means.length == 0) {
            throw new DiffusionException("a Gaussian mixture needs at least one component with a mean, a std and a weight");
        }
        int k = means.length;
        if (stds.length != k || weights.length != k) {
            throw new DiffusionException("Gaussian mixture has " + k + " means but " + stds.length + " stds and "
                    + weights.length + " weights; give one of each per component");
        }
        int d = means[0].length;
        double total = 0;
        double[][] copy = new double[k][];
        for (int i = 0; i < k; i++) {
            if (means[i].length != d || d == 0) {
                throw new DiffusionException("Gaussian mixture means must all have the same positive dimension");
            }
            for (double v : means[i]) {
                if (!Double.isFinite(v)) {
                    throw new DiffusionException("Gaussian mixture mean " + i + " is not finite");
                }
            }
            if (!(stds[i] > 0) || !Double.isFinite(stds[i])) {
                throw new DiffusionException("Gaussian mixture std " + i + " is " + stds[i] + "; it must be positive and finite");
            }
            if (!(weights[i] >= 0) || !Double.isFinite(weights[i])) {
                throw new DiffusionException("Gaussian mixture weight " + i + " is " + weights[i] + "; it must be non-negative");
            }
            total += weights[i];
            copy[i] = means[i].clone();
        }
        if (Math.abs(total - 1) > 1e-9) {
            throw new DiffusionException("Gaussian mixture weights sum to " + total + "; they must sum to 1");
        }
        means = copy;
        stds = stds.clone();
        weights = weights.clone();
    }

    @Override
    public double[][] means() {
        double[][] out = new double[means.length][];
        for (int i = 0; i < means.length; i++) {
            out[i] = means[i].clone();
        }
        return out;
    }

    @Override
    public double[] stds() {
        return stds.clone();
    }

    @Override
    public double[] weights() {
        return weights.clone();
    }

    /** Number of components K. */
    public int components() {
        return means.length;
    }

    /** Dimension d of the data. */
    public int dim() {
        return means[0].length;
    }

    /** The means as a float32 tensor [K, d]. */
    public Tensor meansTensor() {
        float[] flat = new float[components() * dim()];
        for (int i = 0; i < components(); i++) {
            for (int j = 0; j < dim(); j++) {
                flat[i * dim() + j] = (float) means[i][j];
            }
        }
        return Tensor.of(flat, components(), dim());
    }

    /**
     * Draws {@code n} independent points as a float32 tensor [n, d]: a component index from the
     * weights, then μₖ + σₖ·ε with ε ~ N(0, I).
     */
    public Tensor sample(Generator g, int n) {
        return sampleLabeled(g, n).items();
    }

    /** Like {@link #sample} (same draws from the same generator state), with each point's component index as int64 [n]. */
    public DataSource.Labeled sampleLabeled(Generator g, int n) {
        if (n < 1) {
            throw new DiffusionException("sample size must be at least 1, got " + n);
        }
        try (Scope s = Scope.open()) {
            float[] w = new float[components()];
            float[] sd = new float[components()];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) weights[i];
                sd[i] = (float) stds[i];
            }
            Tensor idx = Tensor.of(w, w.length).multinomial(n, true, g);
            Tensor mu = meansTensor().indexSelect(0, idx);
            Tensor sigma = Tensor.of(sd, sd.length).indexSelect(0, idx).unsqueeze(1);
            return new DataSource.Labeled(s.keep(mu.add(Tensor.randn(g, n, dim()).mul(sigma))), s.keep(idx));
        }
    }

    @Override
    public String toString() {
        return "GaussianMixture[K=" + components() + ", d=" + dim() + ", stds=" + Arrays.toString(stds)
                + ", weights=" + Arrays.toString(weights) + "]";
    }
}
