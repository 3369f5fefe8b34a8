package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;

/**
 * A {@link Denoiser} that can also condition on a class: D(x; σ, y) ≈ E[x₀ | x, y]. Label
 * {@link #numClasses()} is the null label, "no class", which makes {@link #denoise(Tensor, Tensor)}
 * the unconditional D(x; σ) = E[x₀ | x] of a model trained with condition dropout.
 */
public interface ConditionalDenoiser extends Denoiser {

    /** Number of real classes; labels run 0 … numClasses, the last being the null label. */
    int numClasses();

    /** D(x; σ, y) for int64 labels [B], one per sample of {@code x}. */
    Tensor denoise(Tensor x, Tensor sigma, Tensor labels);
}
