package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Tensor;

/**
 * Heun's second-order method on the probability-flow ODE, Karras et al. 2022, Algorithm 2 (the EDM
 * sampler). Optional churn raises σ_i to σ̂ = σ_i(1 + γ_i) with fresh noise (lines 4–6), then
 * <pre>
 * d  = (x̂ − D(x̂; σ̂))/σ̂                       (line 7)
 * x' = x̂ + (σ_{i+1} − σ̂)·d                     (line 8, Euler)
 * d' = (x' − D(x'; σ_{i+1}))/σ_{i+1}           (line 10)
 * x_{i+1} = x̂ + (σ_{i+1} − σ̂)·(d + d')/2       (line 11, trapezoidal correction)
 * </pre>
 * Final step: to σ = 0 the correction is skipped (line 9) and the Euler step returns x̂₀ = D(x̂; σ̂).
 * Two evaluations per step, one on the last.
 */
public final class HeunSampler extends SigmaSampler {
    /** Default steps: 25 steps make 49 denoiser evaluations. */
    static final int DEFAULT_STEPS = 25;

    public HeunSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "heun";
    }

    @Override
    protected int defaultSteps(Denoiser model) {
        return Math.min(DEFAULT_STEPS, SigmaSampler.trainingSteps(model, DEFAULT_STEPS));
    }

    @Override
    protected Tensor step(Step s) {
        Churned c = Churned.of(s, options);                                                // lines 4–6
        Tensor denoised = s.denoise(c.x(), c.sigma());
        if (s.sigmaNext() == 0) {
            return denoised;                                                               // line 9: Euler to 0 lands on x̂₀
        }
        double h = s.sigmaNext() - c.sigma();
        Tensor d = derivative(c.x(), denoised, c.sigma());                                 // line 7
        Tensor euler = c.x().add(d.mul(h));                                                // line 8
        Tensor dNext = derivative(euler, s.denoise(euler, s.sigmaNext()), s.sigmaNext());  // line 10
        return c.x().add(d.add(dNext).mul(h / 2));                                         // line 11
    }
}
