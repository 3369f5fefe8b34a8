package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.model.LearnedVariance;
import dev.diffusion4j.process.ReverseVariance;
import dev.diffusion4j.schedule.GridSpec;
import dev.diffusion4j.tensor.Tensor;

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
        return SigmaSampler.trainingSteps(model, 1000);
    }

    @Override
    protected double[] levels(Denoiser model, GridSpec spec) {
        if (options.variance() == ReverseVariance.LEARNED_RANGE) {
            LearnedVariance.require(model);   // fail before any work
        }
        return super.levels(model, spec);
    }

    @Override
    protected Tensor step(Step s) {
        Tensor fraction = null;
        if (options.variance() == ReverseVariance.LEARNED_RANGE) {
            fraction = s.estimate(LearnedVariance.require(s.model())).fraction();
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
