package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * DPM-Solver++(2M), Lu et al. 2022 ("DPM-Solver++", Algorithm 2): a second-order multistep
 * exponential integrator in λ = −log σ on the data prediction x̂₀. In variance-exploding
 * coordinates, with h = λ_{i+1} − λ_i = log(σ_i/σ_{i+1}) and r = h_{i−1}/h,
 * <pre>
 * D = (1 + 1/(2r))·x̂₀_i − 1/(2r)·x̂₀_{i−1}
 * x_{i+1} = (σ_{i+1}/σ_i)·x_i + (1 − e^{−h})·D
 * </pre>
 * The first step uses D = x̂₀_i (DPM-Solver++(1), which equals DDIM). One evaluation per step.
 * Final step: to σ = 0 the first-order update is used (lower order final), which returns x̂₀.
 */
public final class DpmPP2MSampler extends SigmaSampler {
    public DpmPP2MSampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "dpmpp_2m";
    }

    @Override
    protected int history() {
        return 1;
    }

    @Override
    protected Tensor step(Step s) {
        Tensor denoised = s.denoised();
        s.remember(denoised);
        if (s.sigmaNext() == 0) {
            return denoised;
        }
        double h = Math.log(s.sigma() / s.sigmaNext());                   // h_i = λ_{i+1} − λ_i
        Tensor previous = s.past(1);
        Tensor d = denoised;                                              // first step: DPM-Solver++(1)
        if (previous != null) {
            double r = Math.log(s.sigma(-1) / s.sigma()) / h;             // r_i = h_{i−1}/h_i
            d = denoised.add(denoised.sub(previous).mul(1 / (2 * r)));    // D_i = (1 + 1/2r)x̂₀_i − (1/2r)x̂₀_{i−1}
        }
        return s.x().mul(s.sigmaNext() / s.sigma()).add(d.mul(-Math.expm1(-h)));   // (σ_{i+1}/σ_i)x_i − (e^{−h} − 1)D_i
    }
}
