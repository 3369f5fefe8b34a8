package dev.diffusion4j.nn;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;

/**
 * Transformer-style sinusoidal embedding of a scalar (the diffusion timestep), as in the DDPM
 * reference code: with h = dim/2 frequencies f_i = exp(−ln(10000)·i/(h−s)), i = 0..h−1, and
 * frequency shift s (1 by default), emb(t) = [sin(t·f) ‖ cos(t·f)], or [cos ‖ sin] when flipped
 * (diffusers' {@code flip_sin_to_cos}). Parameter-free.
 */
public final class SinusoidalEmbedding {
    private final int dim;
    private final float[] frequencies;
    private final boolean flipSinToCos;

    public SinusoidalEmbedding(int dim) {
        this(dim, false, 1);
    }

    public SinusoidalEmbedding(int dim, boolean flipSinToCos, double freqShift) {
        if (dim < 4 || dim % 2 != 0) {
            throw new DiffusionException("sinusoidal embedding size must be even and at least 4, got " + dim);
        }
        this.dim = dim;
        this.flipSinToCos = flipSinToCos;
        int half = dim / 2;
        if (!(half - freqShift > 0)) {
            throw new DiffusionException("frequency shift " + freqShift + " must be below half the embedding size " + half);
        }
        frequencies = new float[half];
        double step = Math.log(10000.0) / (half - freqShift);
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
        return Tensor.cat(flipSinToCos ? java.util.List.of(arg.cos(), arg.sin()) : java.util.List.of(arg.sin(), arg.cos()), 1);
    }
}
