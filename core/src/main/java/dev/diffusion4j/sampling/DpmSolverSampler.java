package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * Multistep DPM-Solver with noise prediction (Lu et al. 2022, "DPM-Solver", with the multistep
 * form of "DPM-Solver++", sec. 4). The exact solution of the probability-flow ODE over a step
 * (DPM-Solver, Prop. 3.1) is, in VP coordinates, x_t = (α_t/α_s)·x_s − α_t∫_{λ_s}^{λ_t} e^{−λ}·ε̂ dλ,
 * and in the σ coordinates used here x_t = x_s − ∫ e^{−λ}·ε̂ dλ. Expanding ε̂ in λ = −log σ around
 * λ_i and integrating each term exactly, with h = λ_{i+1} − λ_i = log(σ_i/σ_{i+1}):
 * <pre>
 * x_{i+1} = x_i − σ_{i+1}·h·(φ₁(h)·ε̂_i + φ₂(h)·D₁ + 2φ₃(h)·D₂)
 * </pre>
 * where D₁ ≈ h·ε̂′ and D₂ ≈ h²·ε̂″/2 are divided differences of the last k values over the unequal
 * previous steps (r₀ = h_{i−1}/h, r₁ = h_{i−2}/h): order k uses the terms up to D_{k−1}. The first
 * term alone, σ_{i+1}·h·φ₁(h) = σ_i − σ_{i+1}, is DPM-Solver-1 = DDIM. Order 2 extrapolates ε̂
 * linearly and integrates it exactly (the paper's "taylor" form; its alternative ½(e^h − 1)·D₁
 * differs at O(h³)). Note the factor 2 on φ₃: the published third-order multistep update (and
 * the reference code that follows it) weights D₂ by h·φ₃ alone, which leaves it second order — the
 * same slip as in DPM-Solver++(3M), see {@link DpmPP3MSdeSampler}.
 * Order k = the {@code order} option, 1–3 (default 3); the first steps use orders 1, 2, …. One
 * evaluation per step. Final step: to σ = 0 it returns x̂₀.
 */
public final class DpmSolverSampler extends SigmaSampler {
    static final int DEFAULT_ORDER = 3;
    static final int MAX_ORDER = 3;

    private final int order;

    public DpmSolverSampler(SamplerOptions options) {
        super(options);
        this.order = options.orderOr(DEFAULT_ORDER, MAX_ORDER, "dpm_solver");
    }

    @Override
    public String name() {
        return "dpm_solver";
    }

    @Override
    protected int history() {
        return order - 1;
    }

    @Override
    protected Tensor step(Step s) {
        Tensor eps = derivative(s.x(), s.denoised(), s.sigma());              // ε̂_i = (x_i − x̂₀)/σ_i
        s.remember(eps);
        if (s.sigmaNext() == 0) {
            return s.denoised();
        }
        int k = Math.min(order, s.index() + 1);
        double h = Math.log(s.sigma() / s.sigmaNext());
        double c = s.sigmaNext() * h;
        Tensor x = s.x().sub(eps.mul(c * Phi.phi(1, h)));                    // DPM-Solver-1
        if (k == 2) {
            double r0 = Math.log(s.sigma(-1) / s.sigma()) / h;
            Tensor d1 = eps.sub(s.past(1)).div(r0);                           // D₁ ≈ h·ε̂′
            x = x.sub(d1.mul(c * Phi.phi(2, h)));
        } else if (k == 3) {
            double r0 = Math.log(s.sigma(-1) / s.sigma()) / h;
            double r1 = Math.log(s.sigma(-2) / s.sigma(-1)) / h;
            Tensor slope0 = eps.sub(s.past(1)).div(r0);                       // ≈ h·ε̂′ − r₀·D₂
            Tensor slope1 = s.past(1).sub(s.past(2)).div(r1);                 // ≈ h·ε̂′ − (2r₀ + r₁)·D₂
            Tensor d2 = slope0.sub(slope1).div(r0 + r1);                      // D₂ ≈ h²·ε̂″/2
            Tensor d1 = slope0.add(d2.mul(r0));                               // D₁ ≈ h·ε̂′
            x = x.sub(d1.mul(c * Phi.phi(2, h))).sub(d2.mul(2 * c * Phi.phi(3, h)));
        }
        return x;
    }
}
