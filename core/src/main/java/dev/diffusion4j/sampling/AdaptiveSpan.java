package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.schedule.SigmaSchedule;

/**
 * The grid of an error-controlled sampler (rk45, dpm_adaptive): only its span [σ_max, σ_min], since
 * error control picks the levels in between, then 0 when the run ends on the denoised estimate.
 */
record AdaptiveSpan(double sigmaMax, double sigmaMin, boolean denoiseFinal) {
    /** The model's whole span; a step count or a σ schedule in {@code grid} is an error, for error control sets both. */
    static double[] of(String sampler, Denoiser model, GridSpec grid, boolean denoiseFinal) {
        if (grid.steps() > 0) {
            throw new DiffusionException(sampler + " chooses its steps by error control and takes no step count (got steps "
                    + grid.steps() + "); set rtol/atol instead");
        }
        if (grid.schedule() != SigmaSchedule.DEFAULT) {
            throw new DiffusionException(sampler + " chooses its own noise levels (adaptive steps in log σ) and takes no sigma "
                    + "schedule (got " + grid.schedule().configName() + ")");
        }
        return denoiseFinal ? new double[] {model.sigmaMax(), model.sigmaMin(), 0} : new double[] {model.sigmaMax(), model.sigmaMin()};
    }

    /** The span of a grid {σ_max, σ_min} or {σ_max, σ_min, 0}. */
    static AdaptiveSpan of(double[] sigmas) {
        SigmaSampler.checkGrid(sigmas);
        boolean zero = sigmas[sigmas.length - 1] == 0;
        if (sigmas.length != (zero ? 3 : 2)) {
            throw new DiffusionException("an error-controlled sampler takes a span {sigma_max, sigma_min} (then 0 to end on the "
                    + "denoised estimate), not a grid of " + sigmas.length + " levels");
        }
        return new AdaptiveSpan(sigmas[0], sigmas[1], zero);
    }
}
