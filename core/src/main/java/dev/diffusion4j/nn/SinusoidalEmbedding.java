package dev.diffusion4j.nn;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;

/**
 * Transformer-style sinusoidal embedding of a scalar (the diffusion timestep), as in the DDPM
 * reference code: with h = dim/2 frequencies f_i = exp(−ln(10000)·i/(h−1)), i = 0..h−1,
 * emb(t) = [sin(t·f) ‖ cos(t·f)]. Parameter-free.
 */
public final class SinusoidalEmbedding {
    private final int dim;
    private final float[] frequencies;

    public SinusoidalEmbedding(int dim) {
        if (dim < 4 || dim % 2 != 0) {
            throw new DiffusionException("sinusoidal embedding size must be even and at least 4, got " + dim);
        }
        this.dim = dim;
        int half = dim / 2;
        frequencies = new float[half];
        double step = Math.log(10000.0) / (half - 1);
        for (int i = 0; i < half; i++) {
            frequencies[i] = (float) Math.exp(-step * i);
        }
    }

    public int dim() {
        return dim;
    }

    /** t: [B] (any float values, fractional allowed) → [B, dim]. */
    public Tensor forward(Tensor t) {
        Tensor f = Tensor.of(frequencies, 1, frequencies.length);
        Tensor arg = t.to(dev.diffusion4j.tensor.DType.FLOAT32).reshape(-1, 1).mul(f);
        return Tensor.cat(java.util.List.of(arg.sin(), arg.cos()), 1);
    }
}
