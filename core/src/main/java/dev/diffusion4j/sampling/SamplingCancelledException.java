package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;

/** Thrown when a {@link SamplingListener} asks a running sampler to stop. */
public final class SamplingCancelledException extends DiffusionException {
    public SamplingCancelledException(int step, int total) {
        super("sampling cancelled at step " + step + " of " + total);
    }
}
