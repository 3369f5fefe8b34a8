package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;
import java.util.Optional;

/**
 * Base for denoisers that wrap another one and change only {@link #denoise} (clipping, counting,
 * later guidance): the noise-level range and prior scale are the wrapped model's, and so is its
 * {@link LearnedVariance}, whose evaluations pass through {@link #estimate} (a subclass that changes
 * x̂₀ or counts evaluations overrides that too).
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

    @Override
    public final Optional<LearnedVariance> learnedVariance() {
        return inner.learnedVariance().map(lv -> (x, sigma) -> estimate(lv, x, sigma));
    }

    /** One evaluation of the wrapped model's learned variance; by default unchanged. */
    protected LearnedVariance.Estimate estimate(LearnedVariance wrapped, Tensor x, Tensor sigma) {
        return wrapped.estimate(x, sigma);
    }
}
