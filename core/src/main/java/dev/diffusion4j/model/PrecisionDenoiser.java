package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Precision;
import dev.diffusion4j.tensor.Tensor;

/**
 * Evaluates a network at a {@link Precision}: each evaluation runs in that precision's autocast
 * region and hands back the dtype of the sampler's state, so the arithmetic between evaluations keeps it.
 */
public final class PrecisionDenoiser extends ForwardingDenoiser {
    private final Precision precision;

    public PrecisionDenoiser(Denoiser inner, Precision precision) {
        super(inner);
        this.precision = precision;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        try (Precision.Region region = precision.open()) {
            return inner.denoise(x, sigma).to(x.dtype());
        }
    }

    @Override
    protected LearnedVariance.Estimate estimate(LearnedVariance wrapped, Tensor x, Tensor sigma) {
        try (Precision.Region region = precision.open()) {
            LearnedVariance.Estimate e = wrapped.estimate(x, sigma);
            return new LearnedVariance.Estimate(e.denoised().to(x.dtype()), e.fraction().to(x.dtype()));
        }
    }
}
