package dev.diffusion4j.sampling;

import dev.diffusion4j.tensor.Tensor;

/**
 * The classical fourth-order Runge–Kutta method on the flow-matching ODE (see {@link FlowSampler};
 * Hairer, Nørsett &amp; Wanner, "Solving ODEs I", II.1, Table 1.2 left):
 * <pre>
 * k₁ = v(x, t),  k₂ = v(x + (h/2)·k₁, t + h/2),  k₃ = v(x + (h/2)·k₂, t + h/2),  k₄ = v(x + h·k₃, t + h)
 * x_{t+h} = x + (h/6)·(k₁ + 2k₂ + 2k₃ + k₄)
 * </pre>
 * Fourth order, four evaluations per step (one on the last), 13 steps by default.
 */
public final class FlowRk4Sampler extends FlowSampler {
    public FlowRk4Sampler(SamplerOptions options) {
        super(options);
    }

    @Override
    public String name() {
        return "flow_rk4";
    }

    @Override
    protected int stages() {
        return 4;
    }

    @Override
    protected Tensor advance(Step s, Tensor x, Tensor k1, double t, double h) {
        Tensor k2 = velocity(s, x.add(k1.mul(h / 2)), t + h / 2);
        Tensor k3 = velocity(s, x.add(k2.mul(h / 2)), t + h / 2);
        Tensor k4 = velocity(s, x.add(k3.mul(h)), t + h);
        return x.add(k1.add(k2.mul(2)).add(k3.mul(2)).add(k4).mul(h / 6));
    }
}
