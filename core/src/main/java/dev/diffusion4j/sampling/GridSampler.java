package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;
import java.util.function.Supplier;

/**
 * A sampler that evaluates the denoiser once per step, at the step's own state: x̂₀ = D(x; σ_i),
 * then moves to σ_{i+1} using only x, x̂₀ and the two levels.
 */
abstract class GridSampler extends SigmaSampler {
    GridSampler(SamplerOptions options) {
        super(options);
    }

    /**
     * The state at {@code sigmaNext} from the state {@code x} at {@code sigma} and its denoised estimate;
     * {@code noise} draws fresh standard normal noise shaped like x from the run's generator.
     */
    protected abstract Tensor step(Tensor x, Tensor denoised, double sigma, double sigmaNext, Supplier<Tensor> noise);

    @Override
    protected final Tensor step(Step s) {
        return step(s.x(), s.denoised(), s.sigma(), s.sigmaNext(), s::noise);
    }
}
