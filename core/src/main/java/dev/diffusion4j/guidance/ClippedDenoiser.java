package dev.diffusion4j.guidance;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.ForwardingDenoiser;
import dev.diffusion4j.model.LearnedVariance;
import dev.diffusion4j.model.SampleRange;
import dev.diffusion4j.tensor.Tensor;

/** A {@link Denoiser} whose estimates x̂₀ are clipped to a {@link SampleRange}. */
public final class ClippedDenoiser extends ForwardingDenoiser {
    private final SampleRange range;

    public ClippedDenoiser(Denoiser inner, SampleRange range) {
        super(inner);
        this.range = range;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        return range.clip(inner.denoise(x, sigma));
    }

    @Override
    protected LearnedVariance.Estimate estimate(LearnedVariance wrapped, Tensor x, Tensor sigma) {
        LearnedVariance.Estimate e = wrapped.estimate(x, sigma);
        return new LearnedVariance.Estimate(range.clip(e.denoised()), e.fraction());
    }
}
