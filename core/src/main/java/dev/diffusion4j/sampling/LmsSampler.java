package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * Linear multistep (Adams–Bashforth) integration of the probability-flow ODE in σ, as in
 * k-diffusion's "lms": with the derivatives d_j = (x_j − D(x_j; σ_j))/σ_j of the last k steps
 * (k = order, 4 by default; fewer at the start),
 * <pre>
 * x_{i+1} = x_i + Σ_{j<k} c_j·d_{i−j},   c_j = ∫_{σ_i}^{σ_{i+1}} ℓ_j(τ) dτ
 * </pre>
 * where ℓ_j is the Lagrange basis polynomial through the levels σ_i, …, σ_{i−k+1} that is 1 at
 * σ_{i−j}. One evaluation per step; order k on smooth grids. Final step: to σ = 0 it returns x̂₀
 * (a first-order step, which lands on it exactly) rather than extrapolating the derivative.
 */
public final class LmsSampler extends SigmaSampler {
    /** Default order. */
    static final int DEFAULT_ORDER = 4;
    /** Gauss–Legendre nodes and weights on [−1, 1]: exact for polynomials up to degree 5 (order ≤ 6). */
    private static final double[] GL_NODES = {-Math.sqrt(0.6), 0, Math.sqrt(0.6)};
    private static final double[] GL_WEIGHTS = {5.0 / 9, 8.0 / 9, 5.0 / 9};

    private final int order;

    public LmsSampler(SamplerOptions options) {
        super(options);
        this.order = options.orderOr(DEFAULT_ORDER);
    }

    @Override
    public String name() {
        return "lms";
    }

    @Override
    protected int history() {
        return order - 1;
    }

    @Override
    protected Tensor step(Step s) {
        Tensor d = derivative(s.x(), s.denoised(), s.sigma());
        s.remember(d);
        if (s.sigmaNext() == 0) {
            return s.denoised();
        }
        int k = Math.min(order, s.index() + 1);
        double[] nodes = new double[k];
        for (int j = 0; j < k; j++) {
            nodes[j] = s.sigma(-j);
        }
        Tensor x = s.x();
        for (int j = 0; j < k; j++) {
            x = x.add((j == 0 ? d : s.past(j)).mul(lagrangeIntegral(nodes, j, s.sigma(), s.sigmaNext())));
        }
        return x;
    }

    /** ∫_a^b ℓ_j(τ) dτ for the Lagrange basis polynomial ℓ_j over {@code nodes} (1 at nodes[j], 0 at the others). */
    static double lagrangeIntegral(double[] nodes, int j, double a, double b) {
        double sum = 0;
        for (int q = 0; q < GL_NODES.length; q++) {
            sum += GL_WEIGHTS[q] * lagrange(nodes, j, (a + b) / 2 + (b - a) / 2 * GL_NODES[q]);
        }
        return (b - a) / 2 * sum;
    }

    /** ℓ_j(τ): the Lagrange basis polynomial over {@code nodes} that is 1 at nodes[j] and 0 at the others. */
    static double lagrange(double[] nodes, int j, double tau) {
        double l = 1;
        for (int m = 0; m < nodes.length; m++) {
            if (m != j) {
                l *= (tau - nodes[m]) / (nodes[j] - nodes[m]);
            }
        }
        return l;
    }
}
