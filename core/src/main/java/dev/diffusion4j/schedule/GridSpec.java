package dev.diffusion4j.schedule;

import dev.diffusion4j.DiffusionException;

/**
 * How many noise levels a sampler walks and how they are laid out: the step count, the σ schedule
 * with its ρ, and the timestep spacing of a discrete model's own grid. {@code steps = 0} and
 * {@link SigmaSchedule#DEFAULT} leave the choice to the sampler; {@code rho = NaN} to the schedule.
 *
 * @param steps    steps of the grid, i.e. its intervals (0: the sampler's default). Two-stage samplers
 *                 (heun, dpm2, dpm2_ancestral, dpmpp_2s_ancestral, flow_midpoint, flow_heun) make two
 *                 denoiser evaluations per step except the last, flow_rk4 four; for annealed_langevin
 *                 it is the number of noise levels L, for dpm_fast the budget of denoiser evaluations;
 *                 the error-controlled rk45 and dpm_adaptive take none
 * @param schedule how the levels are spaced; {@link SigmaSchedule#DEFAULT} lets each sampler choose:
 *                 the model's grid for most, uniform in the SDE's time for sde_euler and pc, uniform in
 *                 flow time for the flow samplers, geometric (exponential) for annealed_langevin and
 *                 dpm_fast; rk45 and dpm_adaptive choose their own levels and take no other
 * @param rho      ρ of the karras and polyexponential schedules; NaN means their default (7 and 1)
 * @param spacing  which training timesteps a discrete model's own grid ({@link SigmaSchedule#MODEL}) picks; null
 *                 leaves it to the model: trailing (Lin et al. 2023) for the project's models, the scheduler
 *                 config's for a pipeline folder of another tool
 */
public record GridSpec(int steps, SigmaSchedule schedule, double rho, TimestepSpacing spacing) {
    /** Every choice left to the sampler and the model. */
    public static final GridSpec DEFAULT = new GridSpec(0, SigmaSchedule.DEFAULT, Double.NaN, null);

    public GridSpec {
        if (steps < 0) {
            throw new DiffusionException("steps must be at least 1 (or 0 for the sampler's default), got " + steps);
        }
        if (schedule == null) {
            throw new DiffusionException("a grid needs a sigma schedule (start from GridSpec.DEFAULT)");
        }
        if (!Double.isNaN(rho) && !(rho > 0 && rho < Double.POSITIVE_INFINITY)) {
            throw new DiffusionException("rho must be a positive number, got " + rho);
        }
    }

    /** {@code n} steps, everything else the sampler's default. */
    public static GridSpec steps(int n) {
        return DEFAULT.withSteps(n);
    }

    public GridSpec withSteps(int n) {
        return new GridSpec(n, schedule, rho, spacing);
    }

    public GridSpec withSchedule(SigmaSchedule s) {
        return new GridSpec(steps, s, rho, spacing);
    }

    public GridSpec withRho(double r) {
        return new GridSpec(steps, schedule, r, spacing);
    }

    public GridSpec withSpacing(TimestepSpacing s) {
        return new GridSpec(steps, schedule, rho, s);
    }

    /** The step count, or {@code fallback} when none was given. */
    public int stepsOr(int fallback) {
        return steps > 0 ? steps : fallback;
    }

    /** The timestep spacing, or {@code fallback} when the request leaves it to the model. */
    public TimestepSpacing spacingOr(TimestepSpacing fallback) {
        return spacing != null ? spacing : fallback;
    }

    /** ρ, or the schedule's {@code fallback} when none was given. */
    public double rhoOr(double fallback) {
        return Double.isNaN(rho) ? fallback : rho;
    }
}
