package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.process.ReverseVariance;
import dev.diffusion4j.process.Sde;
import java.util.Locale;

/**
 * The parameters of the sampling algorithms; each sampler reads the ones that apply to it and ignores
 * the rest. How many noise levels it walks and where is the grid's business
 * ({@link dev.diffusion4j.schedule.GridSpec}). Start from {@link #DEFAULTS} and change fields with the
 * {@code with...} methods.
 *
 * @param eta            stochasticity η ∈ [0, 1]: DDIM's η, the ancestral samplers' share of fresh
 *                       noise, the SDE samplers' η (for sde_euler and pc's Euler–Maruyama predictor η
 *                       scales the diffusion of the reverse SDE, η = 0 being the probability-flow ODE);
 *                       NaN means the sampler's default (0 for ddim, 1 for the ancestral and SDE samplers)
 * @param variance       DDPM's per-step noise variance
 * @param churn          Karras et al.'s stochastic churn (euler, heun, dpm2)
 * @param sNoise         multiplier of the fresh noise drawn by churn, by the ancestral samplers and by
 *                       the SDE predictors (Karras's S_noise), 1 by default
 * @param order          order of the multistep and exponential-integrator samplers: lms 1–4 (default
 *                       4); deis, dpm_solver, dpm_solver_singlestep 1–3 (default 3); unipc 1–3
 *                       (default 2); dpm_adaptive's higher solution 2 or 3 (default 3); 0 means the
 *                       sampler's default
 * @param variant        a sampler's named variant, "" for its default: unipc's B(h), {@code bh1}
 *                       (B(h) = h) or {@code bh2} (B(h) = e^h − 1, the default)
 * @param sde            which score SDE of Song et al. 2021 the sde_euler and pc samplers integrate
 * @param predictor      the predictor of the pc sampler (reverse diffusion by default)
 * @param snr            signal-to-noise ratio r of the Langevin corrector's step rule (Song et al.
 *                       2021, Alg. 4 and 5), 0.16 by default
 * @param correctorSteps Langevin corrector steps M per noise level of the pc sampler, 1 by default
 *                       (0 leaves only the predictor)
 * @param langevinEpsilon annealed Langevin's ε (Song &amp; Ermon 2019, Alg. 1): the step at level i is
 *                       α_i = ε·σ_i²/σ_L²; NaN means NCSN's 2·10⁻⁵ rescaled to the model's σ_L,
 *                       2·10⁻⁵·(σ_L/0.01)²
 * @param levelSteps     annealed Langevin's T, the Langevin steps per noise level (0: 100)
 * @param denoiseFinal   whether sampling ends with the denoised estimate x̂₀ = D(x; σ_min) — the
 *                       final step to σ = 0 of the σ grid, annealed Langevin's denoising step, rk45's
 *                       last evaluation — (true by default) or with the state at the lowest positive
 *                       noise level
 * @param rtol           relative tolerance of the adaptive samplers (rk45, dpm_adaptive); NaN means
 *                       the sampler's default
 * @param atol           absolute tolerance of the adaptive samplers; NaN means the sampler's default
 */
public record SamplerOptions(double eta, ReverseVariance variance, Churn churn, double sNoise, int order, String variant,
                             Sde sde, PredictorCorrectorSampler.Predictor predictor, double snr, int correctorSteps,
                             double langevinEpsilon, int levelSteps, boolean denoiseFinal, double rtol, double atol) {
    public static final SamplerOptions DEFAULTS = new SamplerOptions(Double.NaN,
            ReverseVariance.BETA_TILDE, Churn.NONE, 1.0, 0, "",
            Sde.VP, PredictorCorrectorSampler.Predictor.REVERSE_DIFFUSION, 0.16, 1,
            Double.NaN, 0, true, Double.NaN, Double.NaN);

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
        if (!Double.isNaN(eta) && !(eta >= 0 && eta <= 1)) {
            throw new DiffusionException("eta must be between 0 and 1, got " + eta);
        }
        if (variance == null || churn == null) {
            throw new DiffusionException("sampler options need a variance and churn settings (use SamplerOptions.DEFAULTS.with...)");
        }
        if (!(sNoise >= 0) || Double.isInfinite(sNoise)) {
            throw new DiffusionException("s-noise must be a finite number ≥ 0, got " + sNoise);
        }
        if (order < 0 || order > MAX_LMS_ORDER) {
            throw new DiffusionException("sampler order must be between 1 and " + MAX_LMS_ORDER
                    + " (lms 1-4; deis, dpm_solver, dpm_solver_singlestep and unipc 1-3; dpm_adaptive 2-3), got " + order);
        }
        variant = variant == null ? "" : variant.trim().toLowerCase(Locale.ROOT);
        if (sde == null || predictor == null) {
            throw new DiffusionException("sampler options need an SDE and a predictor (use SamplerOptions.DEFAULTS.with...)");
        }
        if (!(snr > 0) || Double.isInfinite(snr)) {
            throw new DiffusionException("snr must be a positive number (Song et al. use 0.16), got " + snr);
        }
        if (correctorSteps < 0) {
            throw new DiffusionException("corrector steps must be 0 or more, got " + correctorSteps);
        }
        if (!Double.isNaN(langevinEpsilon) && !(langevinEpsilon > 0 && langevinEpsilon < Double.POSITIVE_INFINITY)) {
            throw new DiffusionException("the Langevin step size epsilon must be a positive number, got " + langevinEpsilon);
        }
        if (levelSteps < 0) {
            throw new DiffusionException("Langevin steps per level must be positive (0: the default), got " + levelSteps);
        }
        if (!Double.isNaN(rtol) && !(rtol > 0 && rtol < 1)) {
            throw new DiffusionException("rtol must be between 0 and 1 (exclusive), got " + rtol);
        }
        if (!Double.isNaN(atol) && !(atol > 0 && atol < Double.POSITIVE_INFINITY)) {
            throw new DiffusionException("atol must be a positive number, got " + atol);
        }
    }

    public SamplerOptions withEta(double v) {
        return edit(b -> b.eta = v);
    }

    public SamplerOptions withVariance(ReverseVariance v) {
        return edit(b -> b.variance = v);
    }

    public SamplerOptions withChurn(Churn v) {
        return edit(b -> b.churn = v);
    }

    public SamplerOptions withSNoise(double v) {
        return edit(b -> b.sNoise = v);
    }

    public SamplerOptions withOrder(int v) {
        return edit(b -> b.order = v);
    }

    public SamplerOptions withVariant(String v) {
        return edit(b -> b.variant = v);
    }

    public SamplerOptions withSde(Sde v) {
        return edit(b -> b.sde = v);
    }

    public SamplerOptions withPredictor(PredictorCorrectorSampler.Predictor v) {
        return edit(b -> b.predictor = v);
    }

    public SamplerOptions withSnr(double v) {
        return edit(b -> b.snr = v);
    }

    public SamplerOptions withCorrectorSteps(int v) {
        return edit(b -> b.correctorSteps = v);
    }

    public SamplerOptions withLangevinEpsilon(double v) {
        return edit(b -> b.langevinEpsilon = v);
    }

    public SamplerOptions withLevelSteps(int v) {
        return edit(b -> b.levelSteps = v);
    }

    public SamplerOptions withDenoiseFinal(boolean v) {
        return edit(b -> b.denoiseFinal = v);
    }

    public SamplerOptions withRtol(double v) {
        return edit(b -> b.rtol = v);
    }

    public SamplerOptions withAtol(double v) {
        return edit(b -> b.atol = v);
    }

    /** A copy with the fields {@code change} sets; validated like any new instance. */
    private SamplerOptions edit(java.util.function.Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return f.build();
    }

    /** The record's components as mutable fields, for the {@code with...} methods. */
    private static final class Fields {
        double eta;
        ReverseVariance variance;
        Churn churn;
        double sNoise;
        int order;
        String variant;
        Sde sde;
        PredictorCorrectorSampler.Predictor predictor;
        double snr;
        int correctorSteps;
        double langevinEpsilon;
        int levelSteps;
        boolean denoiseFinal;
        double rtol;
        double atol;

        Fields(SamplerOptions o) {
            eta = o.eta;
            variance = o.variance;
            churn = o.churn;
            sNoise = o.sNoise;
            order = o.order;
            variant = o.variant;
            sde = o.sde;
            predictor = o.predictor;
            snr = o.snr;
            correctorSteps = o.correctorSteps;
            langevinEpsilon = o.langevinEpsilon;
            levelSteps = o.levelSteps;
            denoiseFinal = o.denoiseFinal;
            rtol = o.rtol;
            atol = o.atol;
        }

        SamplerOptions build() {
            return new SamplerOptions(eta, variance, churn, sNoise, order, variant,
                    sde, predictor, snr, correctorSteps, langevinEpsilon, levelSteps, denoiseFinal, rtol, atol);
        }
    }

    /** η, or the sampler's {@code fallback} if none was given. */
    double etaOr(double fallback) {
        return Double.isNaN(eta) ? fallback : eta;
    }

    /** The order (lms, dpm_adaptive), or the sampler's {@code fallback} if none was given. */
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

    /** T, annealed Langevin's steps per level, or {@code fallback} if none was given. */
    int levelStepsOr(int fallback) {
        return levelSteps > 0 ? levelSteps : fallback;
    }

    /** rtol, or the sampler's {@code fallback} if none was given. */
    double rtolOr(double fallback) {
        return Double.isNaN(rtol) ? fallback : rtol;
    }

    /** atol, or the sampler's {@code fallback} if none was given. */
    double atolOr(double fallback) {
        return Double.isNaN(atol) ? fallback : atol;
    }
}
