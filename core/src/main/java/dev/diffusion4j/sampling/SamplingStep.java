package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * One completed step of a reverse process, given to {@link SamplingListener}s. {@code x} is the new
 * state at noise level {@code sigma} (variance-exploding coordinates, see
 * {@link dev.diffusion4j.model.Denoiser}); {@code denoised} is the step's first x̂₀ (at the step's start,
 * or at the raised level σ̂ when a sampler churns).
 * Both tensors are valid only during the callback: clone and keep them to retain them.
 */
public record SamplingStep(int index, int total, double sigma, Tensor x, Tensor denoised) {
    /** The state in variance-preserving coordinates, x/√(1+σ²): roughly unit scale at every step. */
    public Tensor xVariancePreserving() {
        return x.div(Math.sqrt(1 + sigma * sigma));
    }
}
