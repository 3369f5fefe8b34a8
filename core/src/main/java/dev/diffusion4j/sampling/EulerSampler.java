package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * Euler's method on the probability-flow ODE dx/dσ = (x − D(x; σ))/σ (Karras et al. 2022, eqs. 1, 3):
 * Algorithm 2 of that paper without its second-order correction, so first order. Optional churn
 * (S_churn, S_tmin, S_tmax, S_noise) first raises σ_i to σ̂ by adding noise (lines 4–6):
 * <pre>
 * d = (x̂ − D(x̂; σ̂))/σ̂,   x_{i+1} = x̂ + (σ_{i+1} − σ̂)·d
 * </pre>
 * Final step: to σ = 0 this lands exactly on x̂₀ = D(x̂; σ̂), which is returned.
 */
public final class EulerSampler extends SigmaSampler {
    public EulerSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "euler";
    }

    @Override
    protected Tensor step(Step s) {
        Churned c = Churned.of(s, options);                        // Alg. 2, lines 4–6
        Tensor denoised = s.denoise(c.x(), c.sigma());
        if (s.sigmaNext() == 0) {
            return denoised;                                       // x̂ + (0 − σ̂)·d = x̂₀
        }
        Tensor d = derivative(c.x(), denoised, c.sigma());         // line 7
        return c.x().add(d.mul(s.sigmaNext() - c.sigma()));        // line 8
    }
}
