package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;

/**
 * The diffusion time t of the linear-β VP SDE (Song et al. 2021, eq. 33), for the samplers whose
 * papers step or extrapolate in t although the denoiser knows only σ: ᾱ(t) = exp(−β₀t − β_d·t²/2),
 * so log(1 + σ²) = β₀·t + β_d·t²/2. β₀ and β_d are fitted to the model's σ range, σ(1) = σ_max and
 * σ(t₀) = σ_min, with t₀ = 1/T for a discrete model of T training steps (its first level is one
 * step of T) and 10⁻³ for a continuous one (the score-SDE sampling cut-off). For the linear-β DDPM
 * schedule (β from 10⁻⁴ to 0.02, T = 1000, whose continuous limit is β₀ = 0.1, β₁ = 20) the fit
 * gives β₀ = 0.090, β₁ = β₀ + β_d = 20.15, and every training step n sits within 10⁻³ of
 * t = (n + 1)/T. If the range is too narrow for β_d ≥ 0 the fit falls back to β_d = 0 (still a
 * smooth, monotone time).
 */
record VpTime(double beta0, double betaD) {
    /** Sampling time of a continuous model's σ_min (the score-SDE convention). */
    static final double CONTINUOUS_T_MIN = 1e-3;

    static VpTime of(Denoiser model) {
        int trainingSteps = model.trainingSigmas().length;
        double t0 = trainingSteps > 1 ? 1.0 / trainingSteps : CONTINUOUS_T_MIN;
        double lMin = Math.log1p(model.sigmaMin() * model.sigmaMin());
        double lMax = Math.log1p(model.sigmaMax() * model.sigmaMax());
        double betaD = 2 * (lMax * t0 - lMin) / (t0 * (1 - t0));
        return betaD >= 0 ? new VpTime(lMax - betaD / 2, betaD) : new VpTime(lMax, 0);
    }

    /** t(σ): the root of β_d·t²/2 + β₀·t = log(1 + σ²) on the branch where σ grows with t. */
    double t(double sigma) {
        double l = Math.log1p(sigma * sigma);
        double root = Math.sqrt(beta0 * beta0 + 2 * betaD * l);
        return beta0 >= 0 ? 2 * l / (beta0 + root) : (root - beta0) / betaD;
    }

    /** σ(t) = √(exp(β₀·t + β_d·t²/2) − 1), the inverse of {@link #t}. */
    double sigma(double t) {
        return Math.sqrt(Math.expm1(beta0 * t + betaD * t * t / 2));
    }
}
