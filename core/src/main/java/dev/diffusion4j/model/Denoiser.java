package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;
import java.util.Optional;

/**
 * What every sampler sees: D(x; σ) ≈ E[x₀ | x] for x = x₀ + σ·n, n ~ N(0, I) (the
 * variance-exploding view of Karras et al. 2022, "Elucidating the Design Space", eq. 2–3).
 * Any Gaussian diffusion maps onto it: a VP sample x_t = √ᾱ·x₀ + √(1−ᾱ)·ε is x_t/√ᾱ in these
 * coordinates with σ = √((1−ᾱ)/ᾱ). Adapters convert whatever a network predicts (ε, x₀, v, a score
 * or a velocity) into this one form, so samplers never know.
 */
public interface Denoiser {
    /**
     * The denoised estimate of x₀. {@code x}: [B, ...]; {@code sigma}: [B] per-sample noise levels,
     * or [1] when the whole batch shares one level (cheaper for networks that embed σ).
     */
    Tensor denoise(Tensor x, Tensor sigma);

    /** The noise levels the model was trained on, ascending and finite; empty for continuous-time models. */
    double[] trainingSigmas();

    double sigmaMin();

    double sigmaMax();

    /**
     * Standard deviation of the starting point x ~ N(0, s²·I) at σ_max: {@link #initNoiseScale(double)
     * initNoiseScale(σ_max)}.
     */
    default double initNoiseScale() {
        return initNoiseScale(sigmaMax());
    }

    /**
     * Standard deviation s of the prior N(0, s²·I) that a sampler starting at noise level σ draws its
     * first state from. For variance-preserving models the prior is x_T ~ N(0, I) in VP coordinates,
     * i.e. s = √(1 + σ²) here: unit-variance data plus noise of variance σ².
     */
    default double initNoiseScale(double sigma) {
        return Math.sqrt(1 + sigma * sigma);
    }

    /**
     * The model's learned reverse-step variance, if its network has one (Nichol &amp; Dhariwal 2021);
     * empty for models with a fixed variance. Wrappers forward it.
     */
    default Optional<LearnedVariance> learnedVariance() {
        return Optional.empty();
    }
}
