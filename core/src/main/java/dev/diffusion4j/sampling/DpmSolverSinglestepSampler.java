package dev.diffusion4j.sampling;

import dev.diffusion4j.model.Denoiser;
import dev.diffusion4j.tensor.Tensor;

/**
 * Singlestep DPM-Solver-1, -2 and -3 with noise prediction (Lu et al. 2022, "DPM-Solver", sec. 3.3,
 * Algorithms 1 and 2). Each step from σ_i to σ_{i+1} (h = log(σ_i/σ_{i+1}), intermediate levels
 * s_m at λ_i + r_m·h, i.e. σ_{s_m} = σ_i·e^{−r_m·h}) evaluates ε̂ = (x − x̂₀)/σ {@code order} times;
 * in σ coordinates, where the VP factor α_t/α_s drops out:
 * <pre>
 * DPM-Solver-1:  x_{i+1} = x_i − σ_{i+1}(e^h − 1)·ε̂_i                                   (DDIM)
 * DPM-Solver-2:  u = x_i − σ_{s₁}(e^{r₁h} − 1)·ε̂_i,   r₁ = ½
 *                x_{i+1} = x_i − σ_{i+1}(e^h − 1)·ε̂_i − σ_{i+1}/(2r₁)·(e^h − 1)·(ε̂(u; s₁) − ε̂_i)
 * DPM-Solver-3:  r₁ = ⅓, r₂ = ⅔
 *                u₁ = x_i − σ_{s₁}(e^{r₁h} − 1)·ε̂_i,   D₁ = ε̂(u₁; s₁) − ε̂_i
 *                u₂ = x_i − σ_{s₂}(e^{r₂h} − 1)·ε̂_i − σ_{s₂}·(r₂/r₁)·((e^{r₂h} − 1)/(r₂h) − 1)·D₁
 *                D₂ = ε̂(u₂; s₂) − ε̂_i
 *                x_{i+1} = x_i − σ_{i+1}(e^h − 1)·ε̂_i − (σ_{i+1}/r₂)·((e^h − 1)/h − 1)·D₂
 * </pre>
 * ((e^z − 1)/z − 1 is evaluated as z·φ₂(z) to keep small steps exact.) Budget: every step but the
 * last costs {@code order} evaluations, so N steps ending at σ = 0 cost (N − 1)·order + 1; the
 * default step count ⌈50/order⌉ keeps that at about 50. (The paper's "DPM-Solver-fast" instead
 * splits a fixed evaluation budget into steps of orders 3, …, 3, 2, 1; here the grid and the order
 * are chosen separately.) DPM-Solver-2 with r₁ = ½ is exactly the {@link Dpm2Sampler dpm2} step.
 * Order = the {@code order} option, 1–3 (default 3). Final step: to σ = 0 it returns x̂₀.
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
        return Math.min(steps, SigmaSchedule.trainingSteps(model, steps));
    }

    @Override
    protected Tensor step(Step s) {
        if (s.sigmaNext() == 0) {
            return s.denoised();
        }
        Tensor x = s.x();
        double sigma = s.sigma();
        double sigmaNext = s.sigmaNext();
        double h = Math.log(sigma / sigmaNext);
        Tensor eps = derivative(x, s.denoised(), sigma);
        Tensor first = x.sub(eps.mul(sigmaNext * Math.expm1(h)));                      // DPM-Solver-1
        if (order == 1) {
            return first;
        }
        if (order == 2) {
            double r1 = 0.5;
            double s1 = sigma * Math.exp(-r1 * h);
            Tensor u = x.sub(eps.mul(s1 * Math.expm1(r1 * h)));
            Tensor d = epsilon(s, u, s1).sub(eps);
            return first.sub(d.mul(sigmaNext / (2 * r1) * Math.expm1(h)));
        }
        double r1 = 1.0 / 3;
        double r2 = 2.0 / 3;
        double s1 = sigma * Math.exp(-r1 * h);
        double s2 = sigma * Math.exp(-r2 * h);
        Tensor u1 = x.sub(eps.mul(s1 * Math.expm1(r1 * h)));
        Tensor d1 = epsilon(s, u1, s1).sub(eps);
        Tensor u2 = x.sub(eps.mul(s2 * Math.expm1(r2 * h))).sub(d1.mul(s2 * (r2 / r1) * r2 * h * Phi.phi(2, r2 * h)));
        Tensor d2 = epsilon(s, u2, s2).sub(eps);
        return first.sub(d2.mul(sigmaNext / r2 * h * Phi.phi(2, h)));
    }

    private static Tensor epsilon(Step s, Tensor y, double sigma) {
        return derivative(y, s.denoise(y, sigma), sigma);
    }
}
