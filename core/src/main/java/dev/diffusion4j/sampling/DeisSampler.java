package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * DEIS, the "tAB" variant (Zhang &amp; Chen 2022, "Fast sampling of diffusion models with
 * exponential integrator", sec. 4): the exponential integrator of the VP probability-flow ODE with
 * ε̂ = (x − x̂₀)/σ extrapolated by the Lagrange polynomial through its last k values in the
 * diffusion time t (Adams–Bashforth in t). In VP coordinates the update is
 * x_{i+1} = (α_{i+1}/α_i)·x_i + Σ_j C_ij·ε̂_{i−j}; in the σ (variance-exploding) coordinates used
 * here the linear part is exact by construction and it reads
 * <pre>
 * x_{i+1} = x_i + Σ_{j&lt;k} C_ij·ε̂_{i−j},   C_ij = ∫_{σ_i}^{σ_{i+1}} ℓ_j(t(σ)) dσ
 * </pre>
 * where ℓ_j is the Lagrange basis polynomial in t over t_i, …, t_{i−k+1} that is 1 at t_{i−j}.
 * (Extrapolating in σ itself instead is DEIS's ρAB, which is the {@link LmsSampler lms} sampler.)
 * The denoiser knows only σ, so t is the {@link VpTime} fitted to the model's σ range (for the
 * usual linear-β DDPM, t ≈ (n+1)/T at training step n). The weights C_ij are integrated by 8-point
 * Gauss–Legendre in log σ, exact to rounding for these smooth integrands (the reference implementation uses a left
 * Riemann sum in t, first order in its point spacing).
 * Order k = the {@code order} option, 1–3 (default 3); the first steps use orders 1, 2, … (k = 1 is
 * DDIM). One evaluation per step. Final step: to σ = 0 it returns x̂₀.
 */
public final class DeisSampler extends SigmaSampler {
    static final int DEFAULT_ORDER = 3;
    static final int MAX_ORDER = 3;
    /** 8-point Gauss–Legendre nodes (±) and weights on [−1, 1]: exact for polynomials up to degree 15. */
    static final double[] GL_NODES = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363};
    static final double[] GL_WEIGHTS = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763};

    private final int order;

    public DeisSampler(SamplerOptions options) {
        super(options);
        this.order = options.orderOr(DEFAULT_ORDER, MAX_ORDER, "deis");
    }

    @Override
    public String name() {
        return "deis";
    }

    @Override
    protected int history() {
        return order - 1;
    }

    @Override
    protected Tensor step(Step s) {
        Tensor eps = derivative(s.x(), s.denoised(), s.sigma());   // ε̂_i = (x_i − x̂₀)/σ_i
        s.remember(eps);
        if (s.sigmaNext() == 0) {
            return s.denoised();
        }
        VpTime time = VpTime.of(s.model());
        int k = Math.min(order, s.index() + 1);
        double[] nodes = new double[k];
        for (int j = 0; j < k; j++) {
            nodes[j] = time.t(s.sigma(-j));
        }
        Tensor x = s.x();
        for (int j = 0; j < k; j++) {
            x = x.add((j == 0 ? eps : s.past(j)).mul(weight(time, nodes, j, s.sigma(), s.sigmaNext())));
        }
        return x;
    }

    /** C_ij = ∫_{σ_a}^{σ_b} ℓ_j(t(σ)) dσ = ∫ ℓ_j(t(e^u))·e^u du over u = log σ, by Gauss–Legendre. */
    static double weight(VpTime time, double[] nodes, int j, double sigmaA, double sigmaB) {
        double a = Math.log(sigmaA);
        double b = Math.log(sigmaB);
        double sum = 0;
        for (int q = 0; q < GL_NODES.length; q++) {
            for (double sign : new double[] {-1, 1}) {
                double u = (a + b) / 2 + sign * (b - a) / 2 * GL_NODES[q];
                sum += GL_WEIGHTS[q] * LmsSampler.lagrange(nodes, j, time.t(Math.exp(u))) * Math.exp(u);
            }
        }
        return (b - a) / 2 * sum;
    }
}
