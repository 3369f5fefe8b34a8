package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Tensor;

/**
 * DPM-Solver-2 (Lu et al. 2022, Algorithm 1 with r₁ = ½: the second evaluation sits halfway in
 * log σ) written as a step of Karras et al.'s σ-parameterised ODE and churn (2022, Algorithm 2):
 * the derivative is taken at the midpoint of the step in log σ,
 * <pre>
 * σ_mid = √(σ̂·σ_{i+1}),   x_mid = x̂ + (σ_mid − σ̂)·d,   x_{i+1} = x̂ + (σ_{i+1} − σ̂)·d(x_mid; σ_mid)
 * </pre>
 * with d(x; σ) = (x − D(x; σ))/σ and optional churn as in {@link HeunSampler}. Second order.
 * Final step: to σ = 0 (where log σ has no midpoint) it returns x̂₀ = D(x̂; σ̂).
 */
public final class Dpm2Sampler extends SigmaSampler {
    public Dpm2Sampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "dpm2";
    }

    @Override
    protected int defaultSteps(Denoiser model) {
        return Math.min(HeunSampler.DEFAULT_STEPS, SigmaSampler.trainingSteps(model, HeunSampler.DEFAULT_STEPS));
    }

    @Override
    protected Tensor step(Step s) {
        Churned c = Churned.of(s, options);
        Tensor denoised = s.denoise(c.x(), c.sigma());
        if (s.sigmaNext() == 0) {
            return denoised;
        }
        return midpointStep(s, c.x(), denoised, c.sigma(), s.sigmaNext());
    }

    /** One DPM-Solver-2 step from (x, σ) to σ_to, given x̂₀ = D(x; σ). */
    static Tensor midpointStep(Step s, Tensor x, Tensor denoised, double sigma, double sigmaTo) {
        double sigmaMid = Math.sqrt(sigma * sigmaTo);
        Tensor xMid = x.add(derivative(x, denoised, sigma).mul(sigmaMid - sigma));
        Tensor dMid = derivative(xMid, s.denoise(xMid, sigmaMid), sigmaMid);
        return x.add(dMid.mul(sigmaTo - sigma));
    }
}
