package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;

/**
 * A classifier of noisy samples, p(y | x; σ) for x = x₀ + σ·n in the coordinates of {@link Denoiser},
 * as classifier guidance needs it (Dhariwal &amp; Nichol 2021).
 */
@FunctionalInterface
public interface NoisyClassifier {
    /** log p(y | x; σ) for every class, [B, K]; must be differentiable in {@code x}. */
    Tensor logProbabilities(Tensor x, Tensor sigma);
}
