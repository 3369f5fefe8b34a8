package dev.diffusion4j.sampling;

import dev.diffusion4j.DiffusionException;
import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.LearnedVariance;
import dev.diffusion4j.tensor.Tensor;
import java.util.Locale;

/**
 * Ancestral sampling of DDPM (Ho et al. 2020, Algorithm 2), on any subsequence of the training
 * timesteps (respacing, Nichol &amp; Dhariwal 2021). With ᾱ = 1/(1+σ²) and s the next level:
 * <pre>
 * x_t  = x/√(1+σ_t²)                                   (VP state)
 * μ    = √ᾱ_s·β/(1−ᾱ_t)·x̂₀ + √(ᾱ_t/ᾱ_s)·(1−ᾱ_s)/(1−ᾱ_t)·x_t,   β = 1 − ᾱ_t/ᾱ_s
 * x_s  = μ + √v·z,   v = β̃ = β(1−ᾱ_s)/(1−ᾱ_t)  or  v = β  or  log v = u·log β + (1−u)·log β̃
 * </pre>
 * The last form is the learned range of Nichol &amp; Dhariwal (sec. 3.1), per coordinate, with u from
 * the model's {@link LearnedVariance}; β and β̃ are those of the step's own pair of levels, so on a
 * respaced grid it interpolates between the respaced β and β̃, as they do. It is used only when asked
 * for ({@link Variance#LEARNED_RANGE}), never silently: the default stays β̃ for every model.
 * Final step: to σ = 0 it returns μ = x̂₀, without noise.
 */
public final class DdpmSampler extends SigmaSampler {
    /** The reverse-process variance: fixed as in Ho et al. (sec. 3.2), or learned. */
    public enum Variance {
        /** σ_t² = β̃_t, the posterior variance: optimal for deterministic x₀ ("fixed_small"). */
        BETA_TILDE("fixed_small"),
        /** σ_t² = β_t: optimal for x₀ ~ N(0, I) ("fixed_large"). */
        BETA("fixed_large"),
        /** log σ_t² = u·log β_t + (1 − u)·log β̃_t with u predicted by the model ("learned_range"). */
        LEARNED_RANGE("learned_range");

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
                case "learned_range": case "learned": return LEARNED_RANGE;
                default: throw new DiffusionException("unknown DDPM variance '" + name
                        + "': use fixed_small (β̃), fixed_large (β) or learned_range (a model trained with --variance learned_range)");
            }
        }

        /** The model's learned variance, or a user error if it has none. */
        public static LearnedVariance require(Denoiser model) {
            return model.learnedVariance().orElseThrow(() -> new DiffusionException(
                    "variance learned_range needs a model trained with a learned variance (diffuse train --variance learned_range); "
                            + "this model's variance is fixed: use fixed_small or fixed_large"));
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
    protected double[] sigmas(Denoiser model) {
        if (options.variance() == Variance.LEARNED_RANGE) {
            Variance.require(model);   // fail before any work
        }
        return super.sigmas(model);
    }

    @Override
    protected Tensor step(Step s) {
        Tensor fraction = null;
        if (options.variance() == Variance.LEARNED_RANGE) {
            fraction = s.estimate(Variance.require(s.model())).fraction();
        }
        double sigma = s.sigma();
        double sigmaNext = s.sigmaNext();
        double abT = 1 / (1 + sigma * sigma);
        double abS = 1 / (1 + sigmaNext * sigmaNext);
        double beta = 1 - abT / abS;
        Tensor xt = s.x().mul(Math.sqrt(abT));
        Tensor mean = s.denoised().mul(Math.sqrt(abS) * beta / (1 - abT))
                .add(xt.mul(Math.sqrt(abT / abS) * (1 - abS) / (1 - abT)));
        if (sigmaNext == 0) {
            return mean;
        }
        double betaTilde = beta * (1 - abS) / (1 - abT);
        Tensor z = s.noise();
        Tensor noise = switch (options.variance()) {
            case BETA -> z.mul(Math.sqrt(beta));
            case BETA_TILDE -> z.mul(Math.sqrt(betaTilde));
            case LEARNED_RANGE -> z.mul(LearnedVariance.logVariance(fraction, Math.log(beta), Math.log(betaTilde)).mul(0.5).exp());
        };
        return mean.add(noise).div(Math.sqrt(abS));
    }
}
