package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;

/**
 * Runs a reverse diffusion process over a {@link Denoiser}, from Gaussian noise to data, on a given
 * σ grid. Which grid is the sampler's to propose ({@link #sigmas}, built by the schedule package),
 * but the run itself sees only the denoiser, the starting noise, the grid, a seeded generator and a
 * listener.
 */
public interface Sampler {
    /** The registry name ("ddpm", "ddim", ...). */
    String name();

    /**
     * The σ grid this sampler walks for {@code model}: {@code grid}'s step count and schedule, or this
     * sampler's own defaults where {@code grid} leaves them open. Descending and positive, except that
     * the last level may be 0 (the run then ends on the denoised estimate x̂₀).
     */
    double[] sigmas(Denoiser model, GridSpec grid);

    /**
     * Generates samples. {@code noise} is standard normal, shaped like the output [B, ...]; the
     * sampler scales it to the prior at {@code sigmas[0]}. Extra randomness (ancestral steps) comes
     * from {@code g}, so equal noise and seeds give identical samples. Runs under no-grad; the result is
     * the state at the grid's last level.
     */
    Tensor sample(Denoiser model, Tensor noise, double[] sigmas, Generator g, SamplingListener listener);
}
