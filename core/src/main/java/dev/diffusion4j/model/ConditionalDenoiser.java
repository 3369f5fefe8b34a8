package dev.diffusion4j.model;

import dev.diffusion4j.tensor.DType;
import dev.diffusion4j.tensor.Tensor;

/**
 * A {@link Denoiser} that can also condition: D(x; σ, c) ≈ E[x₀ | x, c], for c a class label or a
 * prompt's token ids. Its {@link #nullCondition null condition} ("no class", the empty prompt)
 * makes {@link #denoise(Tensor, Tensor)} the unconditional D(x; σ) = E[x₀ | x] of a model trained
 * with condition dropout.
 */
public interface ConditionalDenoiser extends Denoiser {

    /** Number of real classes; labels run 0 … numClasses, the last being the null label. 0 for a text-conditioned model. */
    int numClasses();

    /** Token ids per prompt of a text-conditioned model; 0 for a class-conditional one. */
    default int contextLength() {
        return 0;
    }

    /** The condition meaning "none" for {@code batch} samples; by default the null label. */
    default Tensor nullCondition(long batch) {
        return Tensor.full(DType.INT64, numClasses(), batch);
    }

    /** D(x; σ, c) for conditions, one per sample of {@code x}: int64 labels [B] or token ids [B, L]. */
    Tensor denoise(Tensor x, Tensor sigma, Tensor condition);
}
