package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.NoGrad;
import dev.diffusion4j.tensor.Scope;
import dev.diffusion4j.tensor.Tensor;

/**
 * The loop shared by single-step samplers: start at x = √(1+σ₀²)·noise, then for each pair of
 * consecutive levels (σ_i, σ_{i+1}) evaluate x̂₀ = D(x; σ_i) once and take one step. Subclasses
 * supply the grid and the update rule.
 */
abstract class GridSampler implements Sampler {
    /** Descending noise levels, the last being 0. */
    protected abstract double[] sigmas(Denoiser model);

    /** The state at {@code sigmaNext} from the state {@code x} at {@code sigma} and its denoised estimate. */
    protected abstract Tensor step(Tensor x, Tensor denoised, double sigma, double sigmaNext, Generator g);

    @Override
    public final Tensor sample(Denoiser model, Tensor noise, Generator g, SamplingListener listener) {
        double[] sigmas = sigmas(model);
        int total = sigmas.length - 1;
        try (Scope outer = Scope.open(); NoGrad ng = NoGrad.open()) {
            Tensor x = noise.mul(Math.sqrt(1 + sigmas[0] * sigmas[0]));
            for (int i = 0; i < total; i++) {
                if (listener.isCancelled()) {
                    throw new SamplingCancelledException(i, total);
                }
                try (Scope s = Scope.open()) {
                    Tensor denoised = model.denoise(x, Tensor.full(sigmas[i], 1));
                    Tensor next = step(x, denoised, sigmas[i], sigmas[i + 1], g);
                    listener.onStep(new SamplingStep(i, total, sigmas[i + 1], next, denoised));
                    x.close();   // free each superseded state now: memory stays flat over any number of steps
                    x = s.keep(next);
                }
            }
            return outer.keep(x);
        }
    }
}
