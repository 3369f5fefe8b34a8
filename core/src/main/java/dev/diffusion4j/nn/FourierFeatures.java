package dev.diffusion4j.nn;

import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Random Fourier features (Tancik et al. 2020; the Gaussian Fourier projection of score-SDE,
 * Song et al. 2021): a fixed B ~ N(0, scale²) of shape [in, n] and
 * γ(x) = [sin(2π·x·B) ‖ cos(2π·x·B)], giving 2n features. B is a buffer, saved with the weights.
 */
public final class FourierFeatures extends Module {
    private final Tensor b;

    public FourierFeatures(int inDim, int numFrequencies, double scale, Generator g) {
        this.b = buffer("B", Init.normal(g, scale, inDim, numFrequencies));
    }

    /** x: [B, in] → [B, 2n]. */
    public Tensor forward(Tensor x) {
        Tensor arg = x.matmul(b).mul(2 * Math.PI);
        return Tensor.cat(java.util.List.of(arg.sin(), arg.cos()), 1);
    }
}
