package dev.diffusion4j.pipeline;

import dev.diffusion4j.sampling.SamplingStep;
import dev.diffusion4j.tensor.Tensor;

/**
 * Follows a generation: large requests run as several batches, each a full sampling run, and every
 * step of each is reported. Cancelling stops the run at the next step.
 */
public interface GenerationListener {
    GenerationListener NONE = (batch, batches, step) -> { };

    /** Step {@code step} of batch {@code batch} (0-based) of {@code batches}; its tensors are valid during the call only. */
    void onStep(int batch, int batches, SamplingStep step);

    /**
     * The standard normal noise batch {@code batch} starts from (the prior at σ_max in
     * variance-preserving coordinates), before its first step; valid during the call only.
     */
    default void onNoise(int batch, int batches, Tensor noise) {
    }

    /** Polled before every step; true stops the run with a {@link dev.diffusion4j.sampling.SamplingCancelledException}. */
    default boolean isCancelled() {
        return false;
    }
}
