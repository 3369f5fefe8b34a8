package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import java.util.Locale;

/**
 * Settings shared by samplers; each sampler reads the ones that apply to it and ignores the rest.
 *
 * @param steps         number of steps, i.e. intervals of the σ grid (0: the sampler's default).
 *                      Two-stage samplers (heun, dpm2, dpm2_ancestral, dpmpp_2s_ancestral) make two
 *                      denoiser evaluations per step except the last
 * @param eta           stochasticity η ∈ [0, 1]: DDIM's η, the ancestral samplers' share of fresh
 *                      noise, the SDE samplers' η; NaN means the sampler's default (0 for ddim, 1 for
 *                      the ancestral and SDE samplers)
 * @param spacing       how steps are picked among a discrete model's training timesteps (for the
 *                      {@link SigmaSchedule#MODEL model} schedule)
 * @param variance      DDPM's per-step noise variance
 * @param sigmaSchedule how the σ grid is laid out; {@link SigmaSchedule#DEFAULT} lets each sampler choose
 * @param rho           the schedule's ρ (karras, polyexponential); NaN means the schedule's default
 * @param churn         Karras et al.'s stochastic churn (euler, heun, dpm2)
 * @param sNoise        multiplier of the fresh noise drawn by churn and by the ancestral and SDE
 *                      samplers (Karras's S_noise), 1 by default
 * @param order         order of the multistep and exponential-integrator samplers: lms 1–4 (default
 *                      4); deis, dpm_solver, dpm_solver_singlestep 1–3 (default 3); unipc 1–3
 *                      (default 2); 0 means the sampler's default
 * @param variant       a sampler's named variant, "" for its default: unipc's B(h), {@code bh1}
 *                      (B(h) = h) or {@code bh2} (B(h) = e^h − 1, the default)
 */
public record SamplerOptions(int steps, double eta, TimestepSpacing spacing, DdpmSampler.Variance variance,
                             SigmaSchedule sigmaSchedule, double rho, Churn churn, double sNoise, int order, String variant) {
    public static final SamplerOptions DEFAULTS = new SamplerOptions(0, Double.NaN, TimestepSpacing.TRAILING,
            DdpmSampler.Variance.BETA_TILDE, SigmaSchedule.DEFAULT, Double.NaN, Churn.NONE, 1.0, 0, "");

    /** Highest order any sampler supports (lms); the others check their own limit. */
    public static final int MAX_LMS_ORDER = 4;

    /**
     * Stochastic churn of Karras et al. 2022 (Algorithm 2, lines 4–6): before a step at a level
     * σ_i ∈ [S_tmin, S_tmax], noise is added to raise it to σ̂ = σ_i(1 + γ),
     * γ = min(S_churn/N, √2 − 1) for a grid of N steps. S_churn = 0 turns it off.
     */
    public record Churn(double sChurn, double sTmin, double sTmax) {
        public static final Churn NONE = new Churn(0, 0, Double.POSITIVE_INFINITY);

        public Churn {
            if (!(sChurn >= 0) || Double.isInfinite(sChurn)) {
                throw new DiffusionException("s-churn must be a finite number ≥ 0, got " + sChurn);
            }
            if (!(sTmin >= 0) || !(sTmax >= sTmin)) {
                throw new DiffusionException("churn range needs 0 ≤ s-tmin ≤ s-tmax, got s-tmin " + sTmin + ", s-tmax " + sTmax);
            }
        }

        /** γ_i for level {@code sigma} on a grid of {@code steps} steps (Karras et al. 2022, Algorithm 2 line 4). */
        public double gamma(double sigma, int steps) {
            return sChurn > 0 && sigma >= sTmin && sigma <= sTmax ? Math.min(sChurn / steps, Math.sqrt(2) - 1) : 0;
        }
    }

    public SamplerOptions {
        if (steps < 0) {
            throw new DiffusionException("number of steps must be positive, got " + steps);
        }
        if (!Double.isNaN(eta) && !(eta >= 0 && eta <= 1)) {
            throw new DiffusionException("eta must be between 0 and 1, got " + eta);
        }
        if (spacing == null || variance == null || sigmaSchedule == null || churn == null) {
            throw new DiffusionException("sampler options need a spacing, a variance, a sigma schedule and churn settings (use SamplerOptions.DEFAULTS.with...)");
        }
        if (!Double.isNaN(rho) && !(rho > 0 && rho < Double.POSITIVE_INFINITY)) {
            throw new DiffusionException("rho must be a positive number, got " + rho);
        }
        if (!(sNoise >= 0) || Double.isInfinite(sNoise)) {
            throw new DiffusionException("s-noise must be a finite number ≥ 0, got " + sNoise);
        }
        if (order < 0 || order > MAX_LMS_ORDER) {
            throw new DiffusionException("sampler order must be between 1 and " + MAX_LMS_ORDER
                    + " (lms 1-4; deis, dpm_solver, dpm_solver_singlestep and unipc 1-3), got " + order);
        }
        variant = variant == null ? "" : variant.trim().toLowerCase(Locale.ROOT);
    }

    public SamplerOptions withSteps(int s) {
        return new SamplerOptions(s, eta, spacing, variance, sigmaSchedule, rho, churn, sNoise, order, variant);
    }

    public SamplerOptions withEta(double e) {
        return new SamplerOptions(steps, e, spacing, variance, sigmaSchedule, rho, churn, sNoise, order, variant);
    }

    public SamplerOptions withSpacing(TimestepSpacing sp) {
        return new SamplerOptions(steps, eta, sp, variance, sigmaSchedule, rho, churn, sNoise, order, variant);
    }

    public SamplerOptions withVariance(DdpmSampler.Variance v) {
        return new SamplerOptions(steps, eta, spacing, v, sigmaSchedule, rho, churn, sNoise, order, variant);
    }

    public SamplerOptions withSigmaSchedule(SigmaSchedule s) {
        return new SamplerOptions(steps, eta, spacing, variance, s, rho, churn, sNoise, order, variant);
    }

    public SamplerOptions withRho(double r) {
        return new SamplerOptions(steps, eta, spacing, variance, sigmaSchedule, r, churn, sNoise, order, variant);
    }

    public SamplerOptions withChurn(Churn c) {
        return new SamplerOptions(steps, eta, spacing, variance, sigmaSchedule, rho, c, sNoise, order, variant);
    }

    public SamplerOptions withSNoise(double s) {
        return new SamplerOptions(steps, eta, spacing, variance, sigmaSchedule, rho, churn, s, order, variant);
    }

    public SamplerOptions withOrder(int o) {
        return new SamplerOptions(steps, eta, spacing, variance, sigmaSchedule, rho, churn, sNoise, o, variant);
    }

    public SamplerOptions withVariant(String v) {
        return new SamplerOptions(steps, eta, spacing, variance, sigmaSchedule, rho, churn, sNoise, order, v);
    }

    /** The planned step count, or {@code fallback} if none was given. */
    int stepsOr(int fallback) {
        return steps > 0 ? steps : fallback;
    }

    /** η, or the sampler's {@code fallback} if none was given. */
    double etaOr(double fallback) {
        return Double.isNaN(eta) ? fallback : eta;
    }

    /** ρ, or the schedule's {@code fallback} if none was given. */
    double rhoOr(double fallback) {
        return Double.isNaN(rho) ? fallback : rho;
    }

    /** The order, or {@code fallback} if none was given. */
    int orderOr(int fallback) {
        return order > 0 ? order : fallback;
    }

    /**
     * The order for {@code sampler}, or its {@code fallback} if none was given, checked against
     * the sampler's highest order {@code max}.
     */
    int orderOr(int fallback, int max, String sampler) {
        int o = orderOr(fallback);
        if (o > max) {
            throw new DiffusionException(sampler + " supports orders 1 to " + max + ", got " + o + "; pass an order between 1 and " + max);
        }
        return o;
    }

    /** The variant, or the sampler's {@code fallback} if none was given. */
    String variantOr(String fallback) {
        return variant.isEmpty() ? fallback : variant;
    }
}
