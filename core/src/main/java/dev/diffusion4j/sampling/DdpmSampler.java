package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Generator;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/**
 * Ancestral sampling of DDPM (Ho et al. 2020, Algorithm 2), on any subsequence of the training
 * timesteps (respacing, Nichol &amp; Dhariwal 2021). With ᾱ = 1/(1+σ²) and s the next level:
 * <pre>
 * x_t  = x/√(1+σ_t²)                                   (VP state)
 * μ    = √ᾱ_s·β/(1−ᾱ_t)·x̂₀ + √(ᾱ_t/ᾱ_s)·(1−ᾱ_s)/(1−ᾱ_t)·x_t,   β = 1 − ᾱ_t/ᾱ_s
 * x_s  = μ + √v·z,   v = β̃ = β(1−ᾱ_s)/(1−ᾱ_t)  or  v = β
 * </pre>
 * Final step: to σ = 0 it returns μ = x̂₀, without noise.
 */
public final class DdpmSampler extends GridSampler {
    /** The fixed reverse-process variance of Ho et al. (sec. 3.2): both give the same loss bound. */
    public enum Variance {
        /** σ_t² = β̃_t, the posterior variance: optimal for deterministic x₀ ("fixed_small"). */
        BETA_TILDE("fixed_small"),
        /** σ_t² = β_t: optimal for x₀ ~ N(0, I) ("fixed_large"). */
        BETA("fixed_large");

        private final String configName;

        Variance(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        public static Variance parse(String name) {
            String n = name.toLowerCase(Locale.ROOT);
            switch (n) {
                case "fixed_small": case "beta_tilde": case "small": return BETA_TILDE;
                case "fixed_large": case "beta": case "large": return BETA;
                default: throw new DiffusionException("unknown DDPM variance '" + name + "': use fixed_small (β̃) or fixed_large (β)");
            }
        }
    }

    public DdpmSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "ddpm";
    }

    /** Every training step of a discrete model; 1000 for a continuous one. */
    @Override
    protected int defaultSteps(Denoiser model) {
        return SigmaSchedule.trainingSteps(model, 1000);
    }

    @Override
    protected Tensor step(Tensor x, Tensor denoised, double sigma, double sigmaNext, Generator g) {
        double abT = 1 / (1 + sigma * sigma);
        double abS = 1 / (1 + sigmaNext * sigmaNext);
        double beta = 1 - abT / abS;
        Tensor xt = x.mul(Math.sqrt(abT));
        Tensor mean = denoised.mul(Math.sqrt(abS) * beta / (1 - abT))
                .add(xt.mul(Math.sqrt(abT / abS) * (1 - abS) / (1 - abT)));
        if (sigmaNext == 0) {
            return mean;
        }
        double variance = options.variance() == Variance.BETA ? beta : beta * (1 - abS) / (1 - abT);
        Tensor xs = mean.add(Tensor.randn(g, x.shape()).mul(Math.sqrt(variance)));
        return xs.div(Math.sqrt(abS));
    }
}
