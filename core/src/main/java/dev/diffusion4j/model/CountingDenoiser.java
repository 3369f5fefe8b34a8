package dev.diffusion4j.model;

import dev.diffusion4j.tensor.Tensor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts network evaluations (NFE) of a wrapped {@link Denoiser}: one per {@link #denoise} call and
 * one per evaluation of its {@link LearnedVariance}.
 */
public final class CountingDenoiser extends ForwardingDenoiser {
    private final AtomicLong calls = new AtomicLong();

    public CountingDenoiser(Denoiser inner) {
        super(inner);
    }

    /** Evaluations since creation or the last {@link #reset}. */
    public long count() {
        return calls.get();
    }

    public void reset() {
        calls.set(0);
    }

    @Override
    public Tensor denoise(Tensor x, Tensor sigma) {
        calls.incrementAndGet();
        return inner.denoise(x, sigma);
    }

    @Override
    protected LearnedVariance.Estimate estimate(LearnedVariance wrapped, Tensor x, Tensor sigma) {
        calls.incrementAndGet();
        return wrapped.estimate(x, sigma);
    }
}
