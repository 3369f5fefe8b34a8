package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/** Runs a reverse diffusion process over a {@link Denoiser}, from Gaussian noise to data. */
public interface Sampler {
    /** The registry name ("ddpm", "ddim", ...). */
    String name();

    /**
     * Generates samples. {@code noise} is standard normal, shaped like the output [B, ...]; the
     * sampler scales it to its starting noise level. Extra randomness (ancestral steps) comes from
     * {@code g}, so equal noise and seeds give identical samples. Runs under no-grad.
     */
    Tensor sample(Denoiser model, Tensor noise, Generator g, SamplingListener listener);

    default Tensor sample(Denoiser model, Tensor noise, Generator g) {
        return sample(model, noise, g, SamplingListener.NONE);
    }
}
