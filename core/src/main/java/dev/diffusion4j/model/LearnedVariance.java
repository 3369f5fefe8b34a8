package dev.diffusion4j.model;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.tensor.Tensor;

/**
 * A model that predicts the variance of its reverse steps as well as x̂₀ (Nichol &amp; Dhariwal 2021,
 * "Improved Denoising Diffusion Probabilistic Models", sec. 3.1, eq. 15): per coordinate, a fraction
 * u = (v + 1)/2 of the network's raw output v, and for a step t → s with β = 1 − ᾱ_t/ᾱ_s and
 * β̃ = β(1 − ᾱ_s)/(1 − ᾱ_t)
 * <pre>  log Σ = u·log β + (1 − u)·log β̃</pre>
 * u does not depend on the step's target level, so the same output serves a respaced grid: the step
 * recomputes β and β̃ for its own pair of levels. Found on a {@link Denoiser} through
 * {@link Denoiser#learnedVariance()}, which wrappers forward.
 */
@FunctionalInterface
public interface LearnedVariance {
    /** x̂₀ = D(x; σ) and u, both shaped like x, from one network evaluation (same arguments as {@link Denoiser#denoise}). */
    Estimate estimate(Tensor x, Tensor sigma);

    /** The denoised estimate x̂₀ and the interpolation fraction u (not clamped: the paper leaves v unconstrained). */
    record Estimate(Tensor denoised, Tensor fraction) {
    }

    /** The learned variance of {@code model}, or a user error if its variance is fixed. */
    static LearnedVariance require(Denoiser model) {
        return model.learnedVariance().orElseThrow(() -> new DiffusionException(
                "variance learned_range needs a model trained with a learned variance (variance_type learned_range); "
                        + "this model's variance is fixed: use fixed_small or fixed_large"));
    }

    /** u = (v + 1)/2 from the network's raw variance output v. */
    static Tensor fraction(Tensor varianceValues) {
        return varianceValues.add(1.0).mul(0.5);
    }

    /** log Σ = u·log β + (1 − u)·log β̃ (eq. 15). */
    static Tensor logVariance(Tensor fraction, double logBeta, double logBetaTilde) {
        return fraction.mul(logBeta - logBetaTilde).add(logBetaTilde);
    }

    /** As {@link #logVariance(Tensor, double, double)} with per-sample log β and log β̃ broadcast against u. */
    static Tensor logVariance(Tensor fraction, Tensor logBeta, Tensor logBetaTilde) {
        return fraction.mul(logBeta.sub(logBetaTilde)).add(logBetaTilde);
    }
}
