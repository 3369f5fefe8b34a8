package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;

/** A {@link Denoiser} whose estimates x̂₀ are clipped to a {@link SampleRange}. */
public final class ClippedDenoiser implements Denoiser {
    private final Denoiser inner;
    private final SampleRange range;

    public ClippedDenoiser(Denoiser inner, SampleRange range) {
        this.inner = inner;
        this.range = range;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        return range.clip(inner.denoise(x, sigma));
    }

    @Override
    public double[] trainingSigmas() {
        return inner.trainingSigmas();
    }

    @Override
    public double sigmaMin() {
        return inner.sigmaMin();
    }

    @Override
    public double sigmaMax() {
        return inner.sigmaMax();
    }

    @Override
    public double initNoiseScale() {
        return inner.initNoiseScale();
    }
}
