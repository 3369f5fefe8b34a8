package dev.diffusion4j.process;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.schedule.NoiseClock;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/**
 * The three forward SDEs of Song et al. 2021, "Score-Based Generative Modeling through Stochastic
 * Differential Equations" (sec. 3.4), dy = f(t)·y dt + g(t) dw. Each has Gaussian marginals
 * y_t = α(t)·(x₀ + σ(t)·n), so its state is the denoiser's state x (x = x₀ + σ·n) at level σ(t) scaled
 * by α: <b>y = α·x</b>, and its score comes from D by Tweedie's formula,
 * <pre>
 *   ∇_y log p_t(y) = (α·D(y/α; σ) − y)/(α·σ)²
 * </pre>
 * With B(t) = ∫₀ᵗ β = β_min·t + ½(β_max − β_min)·t² (β_min = 0.1, β_max = 20 as in the paper):
 * <ul>
 * <li><b>VE</b> (eq. 9): f = 0, g² = d[σ²]/dt, with σ(t) = σ_min·(σ_max/σ_min)^t over the model's own
 *     range, so t ∈ [0, 1]; α = 1, y is the denoiser's x.</li>
 * <li><b>VP</b> (eq. 11): f = −½β(t), g² = β(t); α = e^{−B/2} and std √(1 − e^{−B}), so
 *     σ = √(e^B − 1) and α = 1/√(1 + σ²): the DDPM state (Ho et al. 2020 is its discretisation).</li>
 * <li><b>sub-VP</b> (eq. 12): f = −½β(t), g² = β(t)·(1 − e^{−2B(t)}); α = e^{−B/2} and std
 *     1 − e^{−B}, so σ = 2·sinh(B/2) and α = (√(σ² + 4) − σ)/2.</li>
 * </ul>
 * Samplers walk a σ grid; {@link Process#time} and {@link Process#sigma} convert between σ and the
 * SDE's own time t, which the Euler–Maruyama step needs (f and g are functions of t).
 */
public enum Sde {
    VP("vp"),
    VE("ve"),
    SUB_VP("subvp");

    /** β_min and β_max of the VP and sub-VP SDEs (Song et al. 2021, App. C: DDPM's β_i·N for N = 1000). */
    public static final double BETA_MIN = 0.1;
    public static final double BETA_MAX = 20;

    private final String configName;

    Sde(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static Sde parse(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        for (Sde s : values()) {
            if (s.configName.equals(n)) {
                return s;
            }
        }
        throw new DiffusionException("unknown SDE '" + name + "': use vp, ve or subvp");
    }

    /** This SDE over a model's noise range [σ_min, σ_max] (which fixes the VE clock). */
    public Process over(double sigmaMin, double sigmaMax) {
        return new Process(this, sigmaMin, sigmaMax);
    }

    /** An SDE bound to a noise range [σ_min, σ_max]: its clock t ↔ σ, its scale α, drift f and diffusion g². */
    public record Process(Sde kind, double sigmaMin, double sigmaMax) implements NoiseClock {
        /** The SDE time at which the marginal has noise level σ (the inverse of {@link #sigma}). */
        @Override
        public double time(double sigma) {
            return switch (kind) {
                case VE -> Math.log(sigma / sigmaMin) / Math.log(sigmaMax / sigmaMin);
                case VP -> timeOfIntegral(Math.log1p(sigma * sigma));               // B = log(1 + σ²)
                case SUB_VP -> timeOfIntegral(2 * asinh(sigma / 2));                // B = 2·asinh(σ/2)
            };
        }

        /** σ(t), the Denoiser's noise level of the marginal at time t. */
        @Override
        public double sigma(double t) {
            return switch (kind) {
                case VE -> sigmaMin * Math.pow(sigmaMax / sigmaMin, t);
                case VP -> Math.sqrt(Math.expm1(integral(t)));
                case SUB_VP -> 2 * Math.sinh(integral(t) / 2);
            };
        }

        /** α(σ): the SDE's state is y = α·x. */
        public double scale(double sigma) {
            return switch (kind) {
                case VE -> 1;
                case VP -> 1 / Math.sqrt(1 + sigma * sigma);
                case SUB_VP -> 2 / (Math.sqrt(sigma * sigma + 4) + sigma);          // (√(σ²+4) − σ)/2, without cancellation
            };
        }

        /** f(t) of the drift f(t)·y. */
        public double drift(double t) {
            return kind == Sde.VE ? 0 : -0.5 * beta(t);
        }

        /** g(t)², the squared diffusion coefficient. */
        public double diffusionSquared(double t) {
            return switch (kind) {
                case VE -> 2 * Math.pow(sigma(t), 2) * Math.log(sigmaMax / sigmaMin);   // d[σ²]/dt
                case VP -> beta(t);
                case SUB_VP -> beta(t) * -Math.expm1(-2 * integral(t));
            };
        }

        /** ∇_y log p_t(y) = (α·x̂₀ − y)/(α·σ)² at level σ, from the denoised estimate x̂₀ = D(y/α; σ). */
        public Tensor score(Tensor y, Tensor denoised, double sigma) {
            double alpha = scale(sigma);
            return denoised.mul(alpha).sub(y).div(Math.pow(alpha * sigma, 2));
        }

        public double beta(double t) {
            return BETA_MIN + t * (BETA_MAX - BETA_MIN);
        }

        /** B(t) = ∫₀ᵗ β(s) ds. */
        public double integral(double t) {
            return BETA_MIN * t + 0.5 * (BETA_MAX - BETA_MIN) * t * t;
        }

        /** The t ≥ 0 with B(t) = b: the positive root of ½(β_max − β_min)t² + β_min·t − b, in a form free of cancellation. */
        static double timeOfIntegral(double b) {
            return 2 * b / (BETA_MIN + Math.sqrt(BETA_MIN * BETA_MIN + 2 * (BETA_MAX - BETA_MIN) * b));
        }

        private static double asinh(double x) {
            return Math.log1p(x + x * x / (1 + Math.sqrt(1 + x * x)));
        }
    }
}
