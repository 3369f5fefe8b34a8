package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;

/**
 * Base for denoisers that wrap another one and change only {@link #denoise} (clipping, counting,
 * later guidance): the noise-level range and prior scale are the wrapped model's.
 */
public abstract class ForwardingDenoiser implements Denoiser {
    protected final Denoiser inner;

    protected ForwardingDenoiser(Denoiser inner) {
        this.inner = inner;
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        return inner.denoise(x, sigma);
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
    public double initNoiseScale(double sigma) {
        return inner.initNoiseScale(sigma);
    }
}
