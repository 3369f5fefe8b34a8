package dev.diffusion4j.schedule;

/**
 * A process's own time t as a monotone function of the noise level σ, and back: t = σ/(1 + σ) for the
 * linear flow path, a score SDE's clock for sde_euler and pc. Grids uniform in t come from
 * {@link SigmaSchedule#uniformIn}.
 */
public interface NoiseClock {
    /** t(σ). */
    double time(double sigma);

    /** σ(t), the inverse of {@link #time}. */
    double sigma(double time);
}
