package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Tensor;

/**
 * Singlestep DPM-Solver-1, -2 and -3 with noise prediction (Lu et al. 2022, "DPM-Solver", sec. 3.3,
 * Algorithms 1 and 2): each step from σ_i to σ_{i+1} is one {@link DpmSolver} step of the chosen
 * order, evaluating ε̂ = (x − x̂₀)/σ at σ_i and at {@code order − 1} intermediate levels
 * σ_i·e^{−r·h}, h = log(σ_i/σ_{i+1}). Budget: every step but the last costs {@code order}
 * evaluations, so N steps ending at σ = 0 cost (N − 1)·order + 1; the default step count ⌈50/order⌉
 * keeps that at about 50. (The paper's "DPM-Solver-fast", {@link DpmFastSampler dpm_fast}, instead
 * splits a fixed evaluation budget into steps of orders 3, …, 3, 2, 1.) DPM-Solver-2 with r₁ = ½ is
 * exactly the {@link Dpm2Sampler dpm2} step. Order = the {@code order} option, 1–3 (default 3).
 * Final step: to σ = 0 it returns x̂₀.
 */
public final class DpmSolverSinglestepSampler extends SigmaSampler {
    static final int DEFAULT_ORDER = 3;
    static final int MAX_ORDER = 3;

    private final int order;

    public DpmSolverSinglestepSampler(SamplerOptions options) {
        super(options);
        this.order = options.orderOr(DEFAULT_ORDER, MAX_ORDER, "dpm_solver_singlestep");
    }

    @Override
    public String name() {
        return "dpm_solver_singlestep";
    }

    @Override
    protected int defaultSteps(Denoiser model) {
        int steps = (DEFAULT_STEPS + order - 1) / order;
        return Math.min(steps, SigmaSampler.trainingSteps(model, steps));
    }

    @Override
    protected Tensor step(Step s) {
        if (s.sigmaNext() == 0) {
            return s.denoised();
        }
        Tensor eps = derivative(s.x(), s.denoised(), s.sigma());
        return DpmSolver.step(order, (y, sigma) -> derivative(y, s.denoise(y, sigma), sigma), s.x(), eps, s.sigma(), s.sigmaNext());
    }
}
