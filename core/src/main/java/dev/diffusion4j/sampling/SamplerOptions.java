package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;

/**
 * Settings shared by samplers; each sampler reads the ones that apply to it.
 *
 * @param steps   number of denoiser evaluations to plan for; 0 means the sampler's default
 * @param eta     DDIM stochasticity η ∈ [0, 1] (0: deterministic, 1: DDPM-like)
 * @param spacing how steps are picked among a discrete model's training timesteps
 * @param variance DDPM's per-step noise variance
 */
public record SamplerOptions(int steps, double eta, TimestepSpacing spacing, DdpmSampler.Variance variance) {
    public static final SamplerOptions DEFAULTS = new SamplerOptions(0, 0.0, TimestepSpacing.TRAILING, DdpmSampler.Variance.BETA_TILDE);

    public SamplerOptions {
        if (steps < 0) {
            throw new DiffusionException("number of steps must be positive, got " + steps);
        }
        if (!(eta >= 0 && eta <= 1)) {
            throw new DiffusionException("eta must be between 0 and 1, got " + eta);
        }
    }

    public SamplerOptions withSteps(int s) {
        return new SamplerOptions(s, eta, spacing, variance);
    }

    public SamplerOptions withEta(double e) {
        return new SamplerOptions(steps, e, spacing, variance);
    }

    public SamplerOptions withSpacing(TimestepSpacing sp) {
        return new SamplerOptions(steps, eta, sp, variance);
    }

    public SamplerOptions withVariance(DdpmSampler.Variance v) {
        return new SamplerOptions(steps, eta, spacing, v);
    }

    /** The planned step count, or {@code fallback} if none was given. */
    int stepsOr(int fallback) {
        return steps > 0 ? steps : fallback;
    }
}
